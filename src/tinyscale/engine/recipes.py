"""Recipes: named training protocols. A run is family × width × recipe × seed.

A recipe holds everything about training that can change a run's weights: schedule,
optimiser, loss, batch, augmentation. The width sweep's recipe is the paper's cosine protocol
(PROTOCOL.md §2); studies add their own. Settings that cannot change weights (intervals,
caches, device) live in `EngineSettings`, apart, so that changing them retrains nothing.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from .augment import AugmentConfig


@dataclass(frozen=True)
class Recipe:
    name: str
    schedule: str  # "cosine": annealed per epoch from lr to lr_min; "constant": lr throughout
    loss: str  # "cross_entropy", or "mse" on one-hot targets
    epochs: int  # schedule length; metrics come from the final epoch's weights
    batch_size: int
    drop_last: bool  # 50,000 // 128 = 390 steps per epoch, as the original
    lr: float
    lr_min: float  # cosine floor (eta_min)
    momentum: float
    weight_decay: float  # on all parameters, BN and biases included
    nesterov: bool
    label_smoothing: float
    augment: AugmentConfig
    # Speed switches change numerics on CUDA (bf16 visibly), so they belong to what a run's weights
    # depend on; all off in the paper's config (fp32, deterministic cuDNN, as the original).
    channels_last: bool | str
    bf16: bool | str
    compile: bool | str
    cudnn_benchmark: bool | str  # off: cudnn.deterministic=True, benchmark=False
    tf32: bool | str  # TF32 convolutions and matmuls on Ampere+; off: true fp32
    # Quantisation-aware training (tinyscale.quant, LSQ): 32 = no quantiser.
    weight_bits: int
    act_bits: int
    # Start from the final weights of the run with this recipe (same family, width and seed).
    init_from: str | None
    # Log a learning curve: test and training-subset error and loss at steps 2^k and every epoch end.
    curve: bool
    train_subset: int  # images of the fixed training subset the curve's training error uses
    # Fields added after the first builds: each has a default, and `as_dict` leaves it out at that
    # default, so the recipes (the training rules' params) of existing builds stay as they were.
    optimizer: str = "sgd"  # "sgd" (momentum, nesterov, weight decay as above) or "adam" (torch defaults, lr)
    end_bits: int | None = None  # weight bits of the embeddings and the last linear layer, if not weight_bits

    def lr_at(self, epoch: int) -> float:
        """Learning rate during 0-based `epoch`: torch's CosineAnnealingLR(T_max=epochs, eta_min=lr_min)."""
        if self.schedule == "cosine":
            return self.lr_min + (self.lr - self.lr_min) * (1 + math.cos(math.pi * epoch / self.epochs)) / 2
        if self.schedule == "constant":
            return self.lr
        raise ValueError(f"recipe {self.name}: unknown schedule {self.schedule!r}")

    def steps_per_epoch(self, n: int) -> int:
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    @property
    def quantised(self) -> bool:
        return self.weight_bits < 32 or self.act_bits < 32

    def as_dict(self) -> dict:
        d = asdict(self)
        for f in fields(self):
            if f.name in LATER_FIELDS and d[f.name] == f.default:
                del d[f.name]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Recipe:
        d = dict(d)
        d["augment"] = AugmentConfig(**d["augment"])
        return cls(**d)


LATER_FIELDS = ("optimizer", "end_bits")


def cosine_recipe(config: dict, name: str = "cosine") -> Recipe:
    """The paper's protocol from a validated config's `train` and `augment` sections."""
    keys = {f.name for f in fields(Recipe)} & set(config["train"])
    train = {k: config["train"][k] for k in keys}
    return Recipe(name=name, schedule="cosine", loss="cross_entropy", augment=AugmentConfig(**config["augment"]),
                  weight_bits=32, act_bits=32, init_from=None, curve=False, train_subset=0, **train)


@dataclass(frozen=True)
class EngineSettings:
    """What cannot change a run's weights: evaluation and checkpoint intervals, the state file, caches."""

    eval_every: int  # epochs between test-accuracy entries in the log (the last epoch always)
    checkpoint_every: int  # epochs between resume states
    keep_resume_state: bool  # keep the resume state once the run is complete
    compile_cache: str | None  # inductor cache folder shared by a machine's jobs

    @classmethod
    def from_config(cls, config: dict) -> EngineSettings:
        return cls(**{f.name: config["train"][f.name] for f in fields(cls)})
