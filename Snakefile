# tinyscale: config → runs → predictions → tables/numbers → figures → paper (the default target).
#
#   snakemake --cores all                              the paper's protocol (config/config.yaml)
#   snakemake --cores all --configfile config/quick.yaml   the bundled quick build

import os
import sys

# The library lives in src/: importable here and, through PYTHONPATH, in every job, including
# jobs in conda environments (--sdm conda) that install only the third-party packages.
SRC = os.path.join(workflow.basedir, "src")
sys.path.insert(0, SRC)
os.environ.update(PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])))

from tinyscale.config import validate_config


# A --configfile replaces the default config rather than being merged into it, so a small
# config never inherits the paper protocol's keys.
if not config:

    configfile: "config/config.yaml"


validate_config(config, workflow.source_path("workflow/schemas/config.schema.yaml"))


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/paper.smk"


rule all:
    input:
        PAPER_PDF,
    default_target: True
