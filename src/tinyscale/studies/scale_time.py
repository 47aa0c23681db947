"""Scale–time equivalence (Boopathy & Fiete, arXiv 2409.05782; PROTOCOL.md §5.1): is a bigger model
worth a longer-trained one? One family on a ×4 parameter grid, trained with plain SGD at constant
learning rates and no augmentation, test error logged at steps 2^k and every epoch end.

Besides the arms of (learning rate, loss) on the whole clean training set, the unified law's
arms: the primary arm on nested subsets of the training set (`data_sizes`) and with noisy labels
(`label_noise`), and Adam at its own constant rates (`optimisers`, the negative control)."""

from __future__ import annotations

from .. import datasets, families
from . import Figure, Study, register

FIG = "tinyscale.paper.figures."
SHARED = (FIG + "st_common",)


def _settings(config: dict) -> dict:
    return config["studies"]["scale_time"]


def arm_name(lr: float, loss: str, optimizer: str = "sgd") -> str:
    """An arm is one (optimiser, learning rate, loss): `lr0.05-mse`, `adam-lr0.001-mse`."""
    return ("" if optimizer == "sgd" else f"{optimizer}-") + f"lr{lr:g}-{'mse' if loss == 'mse' else 'ce'}"


def recipe_name(lr: float, loss: str, epochs: int, optimizer: str = "sgd") -> str:
    return ("st_" if optimizer == "sgd" else f"st_{optimizer}_") + f"lr{lr:g}_{'mse' if loss == 'mse' else 'ce'}_e{epochs}"


def n_params(config: dict, width) -> int:
    """The model's parameter count on the configured dataset, counted on the meta device (no memory)."""
    import torch

    st, spec = _settings(config), datasets.get(config["data"]["dataset"])
    with torch.device("meta"):
        model = families.build_model(st["family"], width, spec.num_classes, spec.image_shape[0], spec.image_shape)
    return families.count_params(model)



def epochs_for(config: dict, width) -> int:
    """The epoch cap of a size: the first cap whose max_params holds it (null: no bound)."""
    n = n_params(config, width)
    for cap in _settings(config)["epoch_caps"]:
        if cap["max_params"] is None or n <= cap["max_params"]:
            return cap["epochs"]
    raise ValueError(f"no epoch cap in studies.scale_time.epoch_caps covers {n:,} parameters; end it with max_params: null")


def _recipe(config: dict, lr: float, loss: str, epochs: int, optimizer: str = "sgd"):
    from ..engine.augment import AugmentConfig
    from ..engine.recipes import Recipe

    st, train = _settings(config), config["train"]
    return Recipe(
        name=recipe_name(lr, loss, epochs, optimizer), schedule="constant", loss=loss, epochs=epochs, optimizer=optimizer,
        batch_size=st["batch_size"], drop_last=True, lr=lr, lr_min=lr, momentum=st["momentum"],
        weight_decay=st["weight_decay"], nesterov=False, label_smoothing=0.0,
        augment=AugmentConfig(crop_padding=0, flip=False, cutout=0),  # no augmentation
        channels_last=train["channels_last"], bf16=train["bf16"], compile=train["compile"],
        cudnn_benchmark=train["cudnn_benchmark"], tf32=train["tf32"],
        weight_bits=32, act_bits=32, init_from=None, curve=True, train_subset=st["train_subset"],
    )


def plan(config: dict) -> list[tuple]:
    """(width, lr, loss, epochs, optimiser) of every recipe-arm the study trains on the whole clean
    training set: every SGD rate × loss, and each Adam rate with the primary loss."""
    st = _settings(config)
    caps = {w: epochs_for(config, w) for w in st["widths"]}
    sgd = [(w, lr, loss, caps[w], "sgd") for w in st["widths"] for lr in st["lrs"] for loss in st["losses"]]
    adam = [(w, lr, st["primary_loss"], caps[w], "adam") for w in st["widths"] for lr in st["adam_lrs"]
            if "adam" in st["optimisers"]]
    return sgd + adam


def data_arms(config: dict) -> list[tuple[int, float]]:
    """(training images, label noise) of the unified law's arms: the primary arm on each smaller
    nested subset (clean), and on the whole set with each noise level; (0, 0.0) is the whole clean set."""
    st = _settings(config)
    sizes = [int(n) for n in st["data_sizes"] if n]
    return [(0, 0.0)] + [(n, 0.0) for n in sizes] + [(0, float(f)) for f in st["label_noise"] if f]


def recipes(config: dict) -> dict:
    out = {}
    for _, lr, loss, epochs, opt in plan(config):
        r = _recipe(config, lr, loss, epochs, opt)
        out[r.name] = r
    return out


def runs(config: dict):
    from ..runs import Run

    st = _settings(config)
    fam = families.get(st["family"])
    out = [Run(fam.name, fam.cast_width(w), recipe_name(lr, loss, e, opt), int(s))
           for w, lr, loss, e, opt in plan(config) for s in st["seeds"]]
    primary = {recipe_name(st["lrs"][0], st["primary_loss"], epochs_for(config, w)) for w in st["widths"]}
    out += [Run(r.family, r.width, r.recipe, r.seed, n, f)
            for n, f in data_arms(config)[1:] for r in out if r.recipe in primary]
    return out


def primary_arm(config: dict) -> str:
    st = _settings(config)
    return arm_name(st["lrs"][0], st["primary_loss"])


def arms(config: dict) -> dict:
    """recipe name → its arm (optimiser, learning rate, loss), for the analysis."""
    return {recipe_name(lr, loss, e, opt): {"arm": arm_name(lr, loss, opt), "lr": lr, "loss": loss, "optimizer": opt}
            for _w, lr, loss, e, opt in plan(config)}


def headline(st: dict) -> list:
    a = st["arms"].get(st["primary_arm"]) or {}
    interval = f"[{a['ci_lo']:.4g}, {a['ci_hi']:.4g}]" if a.get("ci_lo") is not None and a.get("ci_hi") is not None else None
    return [("primary arm", st["arm_labels"].get(st["primary_arm"], st["primary_arm"])),
            ("trade-off exponent k̂", a.get("k_hat")), ("bootstrap interval of k̂", interval),
            ("claimed k", st["rule"]["k_claim"]), ("collapse exponent γ̂", a.get("gamma_hat")),
            ("R² of the collapse", a.get("r2_collapse")), ("verdict", a.get("verdict"))]


STUDY = register(Study(
    name="scale_time",
    title="Scale–time equivalence",
    runs=runs,
    recipes=recipes,
    figures=(
        Figure("st_tradeoff", FIG + "st_tradeoff", ("st_t_min",),
               lambda c: {"arm": primary_arm(c), "k_claim": c["studies"]["scale_time"]["analysis"]["verdict"]["k_claim"]}, SHARED),
        Figure("st_collapse", FIG + "st_collapse", ("st_curves", "st_summary"), lambda c: {"arm": primary_arm(c)}, SHARED),
        Figure("st_prediction", FIG + "st_prediction", ("st_curves",),
               lambda c: {"arm": primary_arm(c), "k_claim": c["studies"]["scale_time"]["analysis"]["verdict"]["k_claim"]},
               SHARED),
        Figure("st_residuals", FIG + "st_residuals", ("st_collapse_residuals",), lambda c: {"arm": primary_arm(c)}, SHARED),
        Figure("st_unified", FIG + "st_unified", ("st_unified",), when=lambda c: bool(data_arms(c)[1:])),
    ),
    paper_tables=("st_summary",),
    abstract="scale_time/abstract.tex.j2",
    section="scale_time/section.tex.j2",
    captions="scale_time/captions.tex.j2",
    headline=headline,
))
