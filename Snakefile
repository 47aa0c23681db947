# tinyscale: config → runs → predictions → tables/numbers → figures → paper (the default target).
#
#   snakemake --cores all                              the paper's protocol (config/config.yaml)
#   snakemake --cores all --configfile config/quick.yaml   the bundled quick build

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
