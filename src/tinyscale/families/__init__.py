"""The model-family registry: one entry per family says how to build, name, draw and cost it.

Everything that needs to know about a family (run ids, config validation, analysis labels,
figure colours, the paper's width labels, cluster runtime estimates) reads it from here, so a
new family is one `register(Family(...))` call, in this package or in a user's plugin file.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..registry import Registry


@dataclass(frozen=True)
class Family:
    name: str  # config key and run-id prefix: lower-case letters and digits only
    label: str  # as the paper and the figures print it
    width_letter: str  # run ids read `scalecnn-c16-…`, `mobilenetv2-w0.75-…`
    width_type: type  # int (channel base) or float (multiplier)
    colour: str  # one colour per family in every figure
    marker: str  # and one marker
    # build(width, num_classes, in_channels) → a fresh nn.Module (seeded by the caller); or
    # "module:attribute", imported on first use, so that analysis jobs never import torch.
    build: Callable | str
    # Cost model for cluster time limits: upper-end seconds per epoch of 50,000 32×32 images on one GPU.
    epoch_seconds: Callable[[float], float]
    description: str = ""  # one LaTeX sentence for the paper's method section
    width_digits: int = 2  # decimals of a float width in run ids (int widths have none)
    # Cost model for cluster memory and CPUs: upper-end MB of one training step's weights,
    # activations and gradients at batch 128 of 32×32 images (host memory when training on a CPU).
    step_mb: Callable[[float], float] = lambda width: 1000.0
    task: str = "image_classification"  # a registered task (tinyscale.tasks): the datasets it trains on
    # How `build` is called: "channels": build(width, num_classes, in_channels) (the image CNNs);
    # "shape": build(width, num_classes, input_shape, **options), input_shape one example's shape.
    input: str = "channels"
    # build options, ((name, value), …): build_model(options=…) overrides them; no config key sets them yet,
    # so a different depth is a plugin family (register a copy with other options)
    options: tuple = ()
    width_step: int = 1  # widths the family builds are multiples of this (a transformer's: its heads)

    def format_width(self, width) -> str:
        """The width as a run id writes it; refuses widths the id cannot hold exactly."""
        if self.width_type is int:
            if int(width) != width or width < 1:
                raise ValueError(f"{self.label} width must be a positive integer, got {width!r}")
            if int(width) % self.width_step:
                raise ValueError(f"{self.label} width must be a multiple of {self.width_step}, got {width!r}")
            return str(int(width))
        text = f"{float(width):.{self.width_digits}f}"
        if float(text) != float(width) or float(width) <= 0:
            raise ValueError(
                f"{self.label} width {width!r} cannot be written exactly with {self.width_digits} decimals "
                f"in a run id; use a positive width with at most {self.width_digits} decimals"
            )
        return text

    def width_label(self, width) -> str:
        """`c=16`, `w=0.75`: how the paper and figures name one size."""
        return f"{self.width_letter}={self.format_width(width)}"

    def cast_width(self, width):
        return self.width_type(width)

    def builder(self) -> Callable:
        if isinstance(self.build, str):
            module, attr = self.build.split(":")
            return getattr(importlib.import_module(module), attr)
        return self.build


FAMILIES: Registry[Family] = Registry("model family")
_NAME = re.compile(r"^[a-z][a-z0-9]*$")


def register(family: Family) -> Family:
    """Add (or replace) a family; its name must be a plain lower-case identifier."""
    if not _NAME.match(family.name):
        raise ValueError(f"family name {family.name!r} must be lower-case letters and digits, starting with a letter")
    if not re.match(r"^[a-z]$", family.width_letter):
        raise ValueError(f"family {family.name}: width_letter must be one lower-case letter")
    return FAMILIES.add(family.name, family)


def get(name: str) -> Family:
    return FAMILIES.lookup(name)


def build_model(family: str, width, num_classes: int, in_channels: int = 3, input_shape: tuple | None = None,
                options: dict | None = None):
    """A fresh model of `family` at `width`; `input_shape` (one example's shape) and `options` (over the
    family's defaults) reach families built from the shape; the image CNNs need only `in_channels`."""
    fam = get(family)
    fam.format_width(width)  # validates the width
    if fam.input == "channels":
        return fam.builder()(fam.cast_width(width), num_classes, in_channels)
    if input_shape is None:
        raise ValueError(f"family {fam.name} builds from the input shape: pass input_shape (one example's shape)")
    unknown = set(options or {}) - {name for name, _ in fam.options}
    if unknown:
        raise ValueError(f"family {fam.name} has no option(s) {sorted(unknown)}; its options: "
                         + (", ".join(name for name, _ in fam.options) or "none"))
    return fam.builder()(fam.cast_width(width), num_classes, tuple(input_shape), **{**dict(fam.options), **(options or {})})


def count_params(model) -> int:
    """Trainable parameters (BN affine counted, running statistics not)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# The built-in families. Their code lives in scalecnn.py, mobilenetv2.py and dscnn.py.
register(Family(
    name="scalecnn", label="ScaleCNN", width_letter="c", width_type=int, colour="#1f77b4", marker="o",
    build="tinyscale.families.scalecnn:ScaleCNN",
    epoch_seconds=lambda c: 10 + 0.012 * c**2,  # c=4: 10 s, c=64: 59 s (the original's slowest epochs)
    step_mb=lambda c: 100 + 12 * c,  # stage-1 maps (c×32×32, six kept per block) dominate
    description=(
        r"ScaleCNN($c$) is a plain ConvNet with stage widths $c, 2c, 4c, 8c$: four blocks of "
        r"[conv$3\times3$ (no bias) $\to$ BatchNorm $\to$ ReLU]$\times 2$, max-pooling after the first three, "
        r"global average pooling and a linear classifier."
    ),
))
register(Family(
    name="mobilenetv2", label="MobileNetV2", width_letter="w", width_type=float, colour="#d62728", marker="s",
    build="tinyscale.families.mobilenetv2:mobilenetv2",
    epoch_seconds=lambda w: 25 + 6 * w**2,  # w=0.1: 25 s, w=3: 79 s
    step_mb=lambda w: 300 + 1500 * w,  # 6× expanded blocks at full resolution (stride-1 stem)
    description=(
        r"MobileNetV2($w$)~\citep{sandler2018mobilenetv2} is torchvision's model with width multiplier $w$, "
        r"trained from scratch, with a stride-1 stem for small images."
    ),
))
register(Family(
    name="dscnn", label="DS-CNN", width_letter="k", width_type=int, colour="#8c564b", marker="v",
    build="tinyscale.families.dscnn:dscnn", task="keyword_spotting", input="shape", options=(("depth", 4),),
    epoch_seconds=lambda k: 10 + 0.004 * k**2,  # 37k 1×40×98 clips; k=64: 26 s, k=256: 272 s (estimates, unmeasured)
    # per 32×32 image at batch 128, as every family (runs.step_mb scales to 40×98): measured 89 MB
    # (k=8) and 303 MB (k=34) a step at batch 64 on 40×98 spectrograms, i.e. 46 and 158 here
    step_mb=lambda k: 40 + 5 * k,
    description=(
        r"DS-CNN($k$)~\citep{zhang2017hello} is Hello Edge's depthwise-separable CNN with $k$ channels: a "
        r"$10\times4$ convolution of stride 2 $\to$ BatchNorm $\to$ ReLU, then four blocks of [depthwise "
        r"$3\times3$ $\to$ BatchNorm $\to$ ReLU $\to$ pointwise $1\times1$ $\to$ BatchNorm $\to$ ReLU], global "
        r"average pooling and a linear classifier."
    ),
))
register(Family(
    name="transformer", label="Transformer", width_letter="d", width_type=int, colour="#bcbd22", marker="*",
    build="tinyscale.families.transformer:Transformer", task="language_modelling", input="shape",
    options=(("depth", 2), ("heads", 2)), width_step=2,
    epoch_seconds=lambda d: 5 + 0.002 * d**2,  # per 50,000 windows of 32×32 = 1,024 tokens (estimates, unmeasured)
    # per 1,024 tokens (runs.step_mb scales to the context) at batch 128: about 16·depth·d + 3·V floats
    # a token are kept for the backward pass
    step_mb=lambda d: 400 + 17 * d,
    description=(
        r"Transformer($d$) is a decoder-only language model in the style of nanoGPT~\citep{karpathy2022nanogpt}: "
        r"token and learned position embeddings of size $d$, two pre-norm blocks of [LayerNorm $\to$ causal "
        r"self-attention with two heads; LayerNorm $\to$ linear $d\to4d$ $\to$ GELU $\to$ linear $4d\to d$], "
        r"each with a residual connection, a final LayerNorm and an untied linear output layer over the bytes."
    ),
))
register(Family(
    name="mlp", label="MLP", width_letter="h", width_type=int, colour="#17becf", marker="P",
    build="tinyscale.families.mlp:MLP",
    epoch_seconds=lambda h: 2 + 1e-5 * h**2,  # matrix products of 50,000 flattened images: seconds on a GPU
    step_mb=lambda h: 50 + 0.05 * h,  # a few h-wide activations per image at batch 128
    description=(
        r"MLP($h$) is a fully connected network: the flattened image, then $d$ hidden layers of $h$ units "
        r"[linear $\to$ ReLU] and a linear classifier, with $d = 2$."
    ),
    input="shape", options=(("depth", 2),),
))
