"""The scale–time study's learning curves → its tables and numbers (every scalar its section cites)."""

import pandas as pd
from _helpers import job

from tinyscale import families
from tinyscale.analysis.scale_time import (
    TABLE_COLUMNS,
    analyse_scale_time,
    long_curves,
    optimiser_control,
    seed_mean_curves,
    summary_table,
)
from tinyscale.analysis.unified_law import analyse_unified_law, unified_table
from tinyscale.io import read_csv, read_json, write_csv, write_json

with job(snakemake):
    p = snakemake.params
    records = [read_json(path) for path in snakemake.input.records]
    arm_of = {recipe: a["arm"] for recipe, a in p.arms.items()}
    curves = [read_csv(path, "learning curve", columns=("step", "test_error")) for path in snakemake.input.curves]
    long = long_curves(records, curves, arm_of)
    # The equivalence's arms are trained on the whole, clean training set; the unified law's data
    # and noise arms are read by its own statistics.
    clean = long[(long["data_size"] == 0) & (long["noise"] == 0)]
    tables, arms = analyse_scale_time(clean[["arm", "n_params", "seed", "step", "test_error"]], p.settings["analysis"])
    arm_meta = {a["arm"]: {"lr": a["lr"], "loss": a["loss"]} for a in p.arms.values()}
    sizes = long.drop_duplicates("width").sort_values("n_params")
    write_csv(snakemake.output.long, long)
    write_csv(snakemake.output.curves, seed_mean_curves(clean))
    for name, columns in TABLE_COLUMNS.items():
        write_csv(snakemake.output[name], tables.get(name, pd.DataFrame(columns=columns)))
    write_csv(snakemake.output.summary, summary_table(arms, arm_meta))
    s = p.settings
    unified = analyse_unified_law(long, p.primary_arm, p.n_train, (arms.get(p.primary_arm) or {}).get("k_hat"),
                                  s["analysis"]["bootstrap"]["level"], s["analysis"]["min_sizes"])
    write_csv(snakemake.output.unified, unified_table(long, p.primary_arm, unified))
    fam = families.get(s["family"])
    write_json(snakemake.output.numbers, {
        "family": s["family"], "family_label": fam.label,
        "widths": [fam.cast_width(w) for w in sizes["width"]], "n_params": [int(n) for n in sizes["n_params"]],
        "seeds": s["seeds"], "lrs": s["lrs"], "losses": s["losses"], "primary_arm": p.primary_arm,
        "epochs": dict(p.epochs), "plateau_margin": s["analysis"]["collapse"]["plateau_margin"], "batch_size": s["batch_size"], "momentum": s["momentum"],
        "weight_decay": s["weight_decay"], "train_subset": s["train_subset"],
        "k_claim": s["analysis"]["verdict"]["k_claim"], "rule": s["analysis"]["verdict"], "arms": arms,
        "unified_law": unified,
        "optimiser_control": optimiser_control(
            arms, p.primary_arm, sorted({a["arm"] for a in p.arms.values() if a.get("optimizer", "sgd") != "sgd"})),
        "optimisers": s["optimisers"], "adam_lrs": s["adam_lrs"], "data_sizes": s["data_sizes"],
        "label_noise": s["label_noise"],
        "arm_labels": {a["arm"]: ("Adam, " if a.get("optimizer") == "adam" else "")
                       + f"lr {a['lr']:g}, {'MSE' if a['loss'] == 'mse' else 'cross-entropy'}" for a in p.arms.values()},
    })
