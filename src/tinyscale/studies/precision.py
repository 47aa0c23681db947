"""Parameters vs precision at equal storage (ICLR 2025 submission; PROTOCOL.md §5.2): at a fixed
weight-storage budget, do many 2-bit weights beat fewer weights at higher precision? Budgets are
the fp32 storage of given widths; each bit-width gets the width that fills the budget; every arm
fine-tunes the fp32 run of its width and seed (the paper's recipe) for the same extra epochs."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import lru_cache

from .. import datasets, families
from . import Figure, Study, register

FIG = "tinyscale.paper.figures."
FLOAT = 32


@dataclass(frozen=True)
class Model:
    """One model of the study: a budget, a weight/activation bit-width, the width that fills it."""

    budget: float  # the budget's reference width (its fp32 storage is the budget)
    budget_bits: int
    bits: int  # weight bits; 32 = float
    act_bits: int
    width: float
    storage_bits: int
    # "a8": W_b A8 (primary); "ab": W_b A_b (secondary); "e8": W_b A8 with the ends (embeddings and
    # output layer) at 8 bits, the ablation of a task arm with `ablate_ends`
    arms: tuple[str, ...]
    end_bits: int | None = None  # the ends' weight bits where not `bits` (the "e8" arm's models)


def _settings(config: dict) -> dict:
    return config["studies"]["precision"]


ENDS_AT = 8  # the ablation's bits for the embeddings and the output layer


def recipe_name(bits: int, act_bits: int, end_bits: int | None = None) -> str:
    if end_bits is not None:
        return f"qat_w{bits}a{act_bits}e{end_bits}"
    return f"qat_w{bits}a{act_bits}" if (bits, act_bits) != (FLOAT, FLOAT) else "ft_w32a32"


def _storage(family: str, width, num_classes: int, shape: tuple, bits: int, act_bits: int, end_bits=None) -> int:
    import torch

    from ..quant import quantize_model, storage_bits

    with torch.device("meta"):  # shapes only: no memory, no initialisation cost
        model = families.build_model(family, width, num_classes, shape[0], shape)
        return storage_bits(quantize_model(model, bits, act_bits, end_bits))


def _fill(fam, budget_width, budget: int, classes: int, shape: tuple, bits: int, act_bits: int, tol: float,
          end_bits: int | None = None):
    """The width that fills `budget` bits at these bit-widths, over multiples of the family's width
    step (a transformer's heads); a budget no width fills within `tol` is named."""
    from ..quant import solve_width

    try:
        return fam.width_step * solve_width(
            lambda k: _storage(fam.name, k * fam.width_step, classes, shape, bits, act_bits, end_bits), budget,
            lo=1, tol=tol)
    except ValueError as exc:
        ends = f", ends at {end_bits}" if end_bits is not None else ""
        raise ValueError(f"studies.precision: budget {fam.width_label(budget_width)} at {bits}-bit weights{ends}: "
                         f"{exc}; raise studies.precision.tolerance or choose other budget_widths") from None


@lru_cache(maxsize=8)
def _plan(key: str) -> tuple[Model, ...]:
    s = json.loads(key)
    fam = families.get(s["family"])
    spec = datasets.get(s["dataset"])
    classes, shape = spec.num_classes, tuple(spec.image_shape)
    models = []
    for c in s["budget_widths"]:
        budget = _storage(fam.name, c, classes, shape, FLOAT, FLOAT)
        combos = {(b, s["act_bits"] if b < FLOAT else FLOAT): ["a8"] for b in s["bits"]}
        for b in s["secondary_bits"]:
            combos.setdefault((b, b), []).append("ab")
        # The secondary arm, where it runs, compares against the same fp32 and 8-bit models as
        # the primary; without secondary bit-widths there is no arm to report.
        for (b, _), arms in combos.items():
            if s["secondary_bits"] and arms == ["a8"] and (b == FLOAT or b == s["act_bits"]):
                arms.append("ab")
        for (b, a), arms in sorted(combos.items(), reverse=True):
            width = _fill(fam, c, budget, classes, shape, b, a, s["tolerance"])
            if s.get("ablate_ends") and "a8" in arms and b in (FLOAT, ENDS_AT):  # the ablation's references
                arms = [*arms, "e8"]
            models.append(Model(c, budget, b, a, fam.cast_width(width),
                                _storage(fam.name, width, classes, shape, b, a), tuple(sorted(arms))))
        for b in sorted((b for b in s["bits"] if b < ENDS_AT) if s.get("ablate_ends") else [], reverse=True):
            a = s["act_bits"]
            width = _fill(fam, c, budget, classes, shape, b, a, s["tolerance"], ENDS_AT)
            models.append(Model(c, budget, b, a, fam.cast_width(width),
                                _storage(fam.name, width, classes, shape, b, a, ENDS_AT), ("e8",), ENDS_AT))
    return tuple(models)


@dataclass(frozen=True)
class Arm:
    """One (dataset, family, budgets) of the study: the main arm on data.dataset, or one of `tasks`."""

    key: str  # names its files: `{dataset}-{family}`
    task: str
    dataset: str
    family: str
    budget_widths: tuple
    main: bool
    plain: bool  # its task is not augmented: its recipes train without crop, flip and cutout
    ablate_ends: bool = False  # also the "e8" arm: embeddings and output layer kept at 8 bits

    def run_dataset(self, config: dict) -> str:
        """The dataset as its runs' ids name it: "" for the config's own."""
        return "" if self.dataset == config["data"]["dataset"] else self.dataset


def task_arms(config: dict) -> list[Arm]:
    """The main arm, then each of studies.precision.tasks, in order."""
    from .. import tasks

    s = _settings(config)
    entries = [(config["data"]["dataset"], s["family"], s["budget_widths"], True, False)]
    entries += [(t["dataset"], t["family"], t["budget_widths"], False, t.get("ablate_ends", False)) for t in s["tasks"]]
    out = []
    for dataset, family, widths, main, ablate in entries:
        task = datasets.get(dataset).task
        out.append(Arm(f"{dataset}-{family}", task, dataset, family, tuple(widths), main,
                       plain=not main and not tasks.get(task).augment, ablate_ends=ablate))
    return out


def plan(config: dict, arm: Arm | None = None) -> tuple[Model, ...]:
    """Every model of one arm, the main one by default (cached: the width search builds shapes on the
    meta device)."""
    s = _settings(config)
    arm = arm or task_arms(config)[0]
    key = {k: s[k] for k in ("bits", "secondary_bits", "act_bits", "tolerance")}
    key |= {"family": arm.family, "budget_widths": list(arm.budget_widths), "dataset": arm.dataset}
    if arm.ablate_ends:  # only then: the key, and so the cached plans of other arms, stay as they were
        key["ablate_ends"] = True
    return _plan(json.dumps(key, sort_keys=True))


def _names(arm: Arm, bits: int, act_bits: int, end_bits: int | None = None) -> tuple[str, str]:
    """(fp32 start recipe, fine-tuning recipe) of an arm's model."""
    suffix = "_plain" if arm.plain else ""
    return "cosine" + suffix, recipe_name(bits, act_bits, end_bits) + suffix


def recipes(config: dict) -> dict:
    from ..engine.augment import AugmentConfig
    from ..engine.recipes import cosine_recipe

    s, base = _settings(config), cosine_recipe(config)
    out = {base.name: base}
    for arm in task_arms(config):
        start = base if not arm.plain else dataclasses.replace(
            base, name="cosine_plain", augment=AugmentConfig(crop_padding=0, flip=False, cutout=0))
        out[start.name] = start
        for m in plan(config, arm):
            name = _names(arm, m.bits, m.act_bits, m.end_bits)[1]
            out[name] = dataclasses.replace(
                start, name=name, epochs=s["finetune"]["epochs"], lr=s["finetune"]["lr"], lr_min=s["finetune"]["lr_min"],
                weight_bits=m.bits, act_bits=m.act_bits, init_from=start.name, end_bits=m.end_bits,
            )
    return out


def runs(config: dict):
    """The fine-tuning runs and the fp32 runs they start from (shared with the width sweep where it has them)."""
    from ..runs import Run

    s = _settings(config)
    out = []
    for arm in task_arms(config):
        ds = arm.run_dataset(config)
        for m in plan(config, arm):
            start, tune = _names(arm, m.bits, m.act_bits, m.end_bits)
            for seed in s["seeds"]:
                out.append(Run(arm.family, m.width, start, int(seed), dataset=ds))
                out.append(Run(arm.family, m.width, tune, int(seed), dataset=ds))
    return out


def finetune_runs(config: dict, arm: Arm | None = None):
    """(model, run) of every fine-tuning run of one arm (the main one by default): what the analysis reads."""
    from ..runs import Run

    s, arm = _settings(config), arm or task_arms(config)[0]
    return [(m, Run(arm.family, m.width, _names(arm, m.bits, m.act_bits, m.end_bits)[1], int(seed),
                    dataset=arm.run_dataset(config)))
            for m in plan(config, arm) for seed in s["seeds"]]


def start_runs(config: dict, arm: Arm):
    """(model, fp32 run it starts from) of one arm: its own fp32 width sweep, for κ."""
    return [(m, dataclasses.replace(r, recipe=_names(arm, 32, 32)[0])) for m, r in finetune_runs(config, arm)]


def headline(p: dict) -> list:
    a = p["arms"].get("a8") or {}
    rows = [("skipped", p["skipped"])] if p.get("skipped") else []
    for budget, w in sorted((a.get("winners") or {}).items(), key=lambda kv: float(kv[0])):
        rows.append((f"lowest error at budget {p['budget_labels'].get(budget, budget)} (W_b A{p['act_bits']})",
                     f"{w['bits']}-bit, error {w['error']:.4f}"))
    return rows + [("verdict", (a.get("verdict") or {}).get("verdict"))]


STUDY = register(Study(
    name="precision",
    title="Parameters vs precision at equal storage",
    runs=runs,
    recipes=recipes,
    figures=(
        Figure("pp_storage", FIG + "pp_storage", ("pp_budgets",), lambda c: {"x": "storage_bits"}),
        Figure("pp_macs", FIG + "pp_storage", ("pp_budgets",), lambda c: {"x": "macs"}),
        Figure("pp_kappa", FIG + "pp_kappa", ("pp_kappa",), shared=(FIG + "pp_storage",)),
        Figure("pp_tasks", FIG + "pp_tasks", ("pp_task_budgets", "pp_tasks"), shared=(FIG + "pp_storage",),
               when=lambda c: bool(c["studies"]["precision"]["tasks"])),
    ),
    paper_tables=("pp_budgets", "pp_differences", "pp_kappa", "pp_tasks"),
    abstract="precision/abstract.tex.j2",
    section="precision/section.tex.j2",
    captions="precision/captions.tex.j2",
    headline=headline,
))


def model_costs(family: str, width, num_classes: int, image_shape: tuple[int, int, int], act_bits: int) -> dict:
    """MACs of one forward pass of one image (C, H, W) and its peak activation memory (bytes at `act_bits`)."""
    from ..quant import macs, peak_activation_bytes

    model = families.build_model(family, width, num_classes, image_shape[0], image_shape)
    return {"macs": macs(model, image_shape), "peak_act_bytes": peak_activation_bytes(model, image_shape, act_bits)}
