"""Build the keyword-spotting stand-in (words spoken by espeak-ng, in Speech Commands' layout) into
the data folder: the file the `speech_standin` dataset reads instead of downloading one."""

from _helpers import job

from tinyscale.datasets.speech_standin import build_standin

with job(snakemake):
    info = build_standin(snakemake.output[0])  # the registry's description states the defaults
    print(f"{snakemake.output[0]}: {sum(info['clips'].values())} clips of {len(info['clips'])} words by "
          f"{info['voices']} voices; test voices {', '.join(info['test_voices'])}")
