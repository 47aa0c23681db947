# tinyscale: config → runs → predictions → tables/numbers → figures → paper (the default target).
#
#   snakemake --cores all                                  the paper's protocol (config/config.yaml)
#   snakemake --cores all --configfile config/quick.yaml   the bundled quick build
#   snakemake --report results/quick/report.html --configfile config/quick.yaml   its HTML report
#
# Also runs from another working directory (snakemake -s path/to/Snakefile -d elsewhere) and as
# a Snakemake module (`module tinyscale: snakefile: ...; use rule * from tinyscale`).

import gc
import os
import sys
from pathlib import Path

# Planning a sweep allocates many small objects; collecting garbage less often makes a dry run
# of 10,000 runs about 5% faster (benchmarks/dag_scaling.py).
gc.set_threshold(100_000, 50, 1000)

# This workflow's own folder, also when it is used as a module of another workflow (where
# workflow.basedir is the importing workflow's).
TINYSCALE_DIR = Path(str(workflow.current_basedir))

# The library lives in src/: importable here and, through PYTHONPATH, in every job, including
# jobs in conda environments (--sdm conda) that install only the third-party packages. An
# installed tinyscale works as well; the checkout's copy comes first.
SRC = str(TINYSCALE_DIR / "src")
if os.path.isdir(SRC):
    sys.path.insert(0, SRC)
    os.environ.update(PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])))

from tinyscale.config import apply_overrides, validate_config

# A --configfile replaces the default config rather than being merged into it, so a small
# config never inherits the paper protocol's keys. Without one, the checkout's protocol, with
# any --config values on top. (As a module given a config, the directive is skipped.)
if not workflow.overwrite_configfiles:

    configfile: str(TINYSCALE_DIR / "config" / "config.yaml")


# --config values inside a mapping or list arrive as strings: typed here by the schema.
apply_overrides(config, workflow.config_settings.config)
validate_config(config)


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"


for _study in STUDY_NAMES:  # each enabled study's own analysis rules

    include: f"workflow/rules/studies/{_study}.smk"


include: "workflow/rules/figures.smk"
include: "workflow/rules/paper.smk"
include: "workflow/rules/report.smk"


report: "workflow/report/workflow.rst"


rule all:
    default_target: True
    input:
        report(PAPER_PDF, category="Paper", labels={"file": "paper.pdf"}),
        ARXIV_TAR,
        REPORT_FILES,  # the tables, headline numbers and captions of the HTML report
        # Every declared output, not only what the paper reads: Snakemake calls a job whose unread
        # outputs are missing up to date, so a deleted (or set-aside) file would not be rebuilt.
        # (Asked by a rule that is itself up to date, e.g. environment, a missing file is not rebuilt.)
        [runs_files(RUNS, name) for name in TRAIN_OUTPUTS.values()],
        runs_files([r for r in RUNS if RECIPES[r.recipe].curve], "curve.csv"),
        build_outputs(),
