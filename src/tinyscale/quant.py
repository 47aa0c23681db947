"""Quantisation-aware training with Learned Step Size Quantization, and what a quantised model costs.

LSQ (Esser et al. 2020, "Learned Step Size Quantization", arXiv 1902.08153) quantises a tensor v
with a learned step s to round(clip(v/s, −Q_N, Q_P))·s and learns s by backpropagation.
`quantize_model` gives every Conv2d and Linear of a model a per-tensor LSQ quantiser for its
weight and one for its input, and every Embedding one for its table. The quantised-width study
compares models at equal storage, so the
module also measures storage (`storage_bits`), compute (`macs`) and activation memory
(`peak_activation_bytes`), finds the width that fills a bit budget (`solve_width`), and exports
the trained weights as integer codes (`export_integer_weights`, `load_integer_weights`) to show
that they really are b-bit integers times one step.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

FLOAT_BITS = 32  # an unquantised tensor is stored as float32; `bits=32` means "no quantiser"
MAX_BITS = 16  # codes are exported as int8/int16, and float32 holds every such integer exactly
MIN_STEP = 1e-8  # an all-zero first batch (a dead layer) would give step 0 and 0/0 = NaN


# ---------------------------------------------------------------------------------------------
# The quantiser function


def qrange(bits: int, signed: bool) -> tuple[int, int]:
    """(Q_N, Q_P): the integer codes run from −Q_N to Q_P."""
    if not 2 <= bits <= MAX_BITS:
        raise ValueError(f"quantiser bits must be in 2..{MAX_BITS}, got {bits}")
    if signed:
        return 2 ** (bits - 1), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


class _LSQ(torch.autograd.Function):
    generate_vmap_rule = True  # lets torch.func.vmap batch it (packed training)

    @staticmethod
    def forward(x, step, qn, qp, grad_scale):
        return torch.clamp(x / step, -qn, qp).round() * step

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, step, ctx.qn, ctx.qp, ctx.grad_scale = inputs
        ctx.save_for_backward(x, step)

    @staticmethod
    def backward(ctx, grad):
        x, step = ctx.saved_tensors
        v = x / step
        # As the paper writes it: strictly inside the range is "inside"; the edges count as clipped.
        below, above = v <= -ctx.qn, v >= ctx.qp
        grad_x = grad * ~(below | above)
        dstep = torch.where(below, -ctx.qn, torch.where(above, ctx.qp, v.round() - v))
        grad_step = (grad * dstep).sum_to_size(step.shape) * ctx.grad_scale
        return grad_x, grad_step, None, None, None


def lsq(x: torch.Tensor, step: torch.Tensor, bits: int, signed: bool, grad_scale: float = 1.0) -> torch.Tensor:
    """LSQ fake quantisation: round(clip(x/step, −Q_N, Q_P))·step.

    Q_N = 2^(b−1), Q_P = 2^(b−1) − 1 when `signed`; Q_N = 0, Q_P = 2^b − 1 when not.
    `step` is positive and broadcasts against x (per-tensor: a 0-d tensor). Rounding is
    torch.round: ties go to the even integer.

    Gradients, with v = x/step (the step's is Eq. 3 of the paper):
      d out/d x    = 1 if −Q_N < v < Q_P, else 0                 (straight-through estimator)
      d out/d step = round(v) − v if −Q_N < v < Q_P, −Q_N if v ≤ −Q_N, Q_P if v ≥ Q_P
    The step's gradient is multiplied by `grad_scale` (the paper's g); x's gradient is the plain
    STE. Exactly on an edge (v = −Q_N or v = Q_P) a value counts as clipped, as in the paper's
    equations and as torch.clamp's own gradient does: x gets gradient 0, step gets −Q_N or Q_P.
    """
    qn, qp = qrange(bits, signed)
    return _LSQ.apply(x, step, qn, qp, float(grad_scale))


# ---------------------------------------------------------------------------------------------
# Quantiser module and quantised layers


class LSQQuantizer(nn.Module):
    """Per-tensor LSQ quantiser: one learned step (an nn.Parameter) for the whole tensor.

    kind="weight": always signed; the gradient scale is 1/√(numel·Q_P).
    kind="act": signed or unsigned as decided on the first batch (signed iff it holds a negative
    value: the first layer sees normalised images, layers after ReLU/ReLU6 see values ≥ 0);
    the gradient scale is 1/√(features per sample·Q_P).

    The step is initialised, as in LSQ, to 2·mean|v|/√Q_P from the first tensor seen: for
    activations the first batch of a training-mode forward (an eval-mode forward before that
    raises: initialising from evaluation data would leak it into the model); for weights the
    first forward in either mode, since it depends on the weights only. Lazy initialisation
    also means that an fp32 checkpoint loaded after `quantize_model` (strict=False) sets the
    weight steps from the loaded weights. The buffers `initialized` and `signed` record the
    outcome, so a saved and reloaded (or resumed) model does not initialise again.
    """

    def __init__(self, bits: int, kind: str, device=None, dtype=None):
        super().__init__()
        if kind not in ("weight", "act"):
            raise ValueError(f"kind must be 'weight' or 'act', got {kind!r}")
        qrange(bits, True)  # validates bits
        self.bits, self.kind = bits, kind
        self.step = nn.Parameter(torch.ones((), device=device, dtype=dtype))
        self.register_buffer("initialized", torch.tensor(False, device=device))
        self.register_buffer("signed", torch.tensor(kind == "weight", device=device))
        self.enabled = True  # False: pass values through (the cost probes below)
        # Python copy of (initialized, signed): reading the buffers each forward would be a
        # host-device sync, and impossible under vmap. None = read them again (after a load).
        self._flags: tuple[bool, bool] | None = None

    def flags(self) -> tuple[bool, bool]:
        if self._flags is None:
            self._flags = (bool(self.initialized), bool(self.signed))
        return self._flags

    @torch.no_grad()
    def set_step(self, step: torch.Tensor | float, signed: bool) -> None:
        """Set the step (and signedness) and mark the quantiser initialised."""
        self.step.copy_(torch.as_tensor(step).clamp_min(MIN_STEP))
        self.signed.fill_(signed)
        self.initialized.fill_(True)
        self._flags = (True, signed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.enabled:
            return x
        initialized, signed = self.flags()
        if not initialized:
            if self.kind == "act" and not self.training:
                raise RuntimeError("activation step size not initialised: run one training-mode forward first "
                                   "(LSQ initialises it from the first training batch)")
            with torch.no_grad():
                signed = self.kind == "weight" or bool((x < 0).any())
                self.set_step(2 * x.abs().mean() / math.sqrt(qrange(self.bits, signed)[1]), signed)
        _, qp = qrange(self.bits, signed)
        features = x.numel() if self.kind == "weight" else math.prod(x.shape[1:])
        return lsq(x, self.step, self.bits, signed, grad_scale=1 / math.sqrt(features * qp))

    def _load_from_state_dict(self, *args, **kwargs):
        super()._load_from_state_dict(*args, **kwargs)
        self._flags = None  # the buffers may have changed

    def extra_repr(self) -> str:
        return f"bits={self.bits}, kind={self.kind}"


def _add_quantizers(layer: nn.Module, float_layer: nn.Module, weight_bits: int, act_bits: int) -> nn.Module:
    """Give `layer` (built on the meta device) the float layer's parameters, plus quantisers."""
    layer.weight, layer.bias = float_layer.weight, float_layer.bias  # same Parameter objects, same names
    layer.train(float_layer.training)
    kw = dict(device=float_layer.weight.device, dtype=float_layer.weight.dtype)
    layer.weight_quant = LSQQuantizer(weight_bits, "weight", **kw) if weight_bits < FLOAT_BITS else None
    layer.act_quant = LSQQuantizer(act_bits, "act", **kw) if act_bits < FLOAT_BITS else None
    return layer


class QuantConv2d(nn.Conv2d):
    """nn.Conv2d with LSQ on its weight and its input; the parameters keep their names."""

    @classmethod
    def from_float(cls, conv: nn.Conv2d, weight_bits: int, act_bits: int) -> QuantConv2d:
        layer = cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                    conv.dilation, conv.groups, conv.bias is not None, conv.padding_mode, device="meta")
        return _add_quantizers(layer, conv, weight_bits, act_bits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.act_quant is not None:
            x = self.act_quant(x)
        weight = self.weight if self.weight_quant is None else self.weight_quant(self.weight)
        return self._conv_forward(x, weight, self.bias)


class QuantLinear(nn.Linear):
    """nn.Linear with LSQ on its weight and its input; the parameters keep their names."""

    @classmethod
    def from_float(cls, linear: nn.Linear, weight_bits: int, act_bits: int) -> QuantLinear:
        layer = cls(linear.in_features, linear.out_features, linear.bias is not None, device="meta")
        return _add_quantizers(layer, linear, weight_bits, act_bits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.act_quant is not None:
            x = self.act_quant(x)
        weight = self.weight if self.weight_quant is None else self.weight_quant(self.weight)
        return F.linear(x, weight, self.bias)


class QuantEmbedding(nn.Embedding):
    """nn.Embedding with LSQ on its table (its input is token ids: nothing to quantise there)."""

    @classmethod
    def from_float(cls, emb: nn.Embedding, weight_bits: int, act_bits: int) -> QuantEmbedding:
        layer = cls(emb.num_embeddings, emb.embedding_dim, emb.padding_idx, emb.max_norm, emb.norm_type,
                    emb.scale_grad_by_freq, emb.sparse, device="meta")
        layer.weight = emb.weight
        layer.train(emb.training)
        kw = dict(device=emb.weight.device, dtype=emb.weight.dtype)
        layer.weight_quant = LSQQuantizer(weight_bits, "weight", **kw) if weight_bits < FLOAT_BITS else None
        layer.act_quant = None
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight if self.weight_quant is None else self.weight_quant(self.weight)
        return F.embedding(x, weight, self.padding_idx, self.max_norm, self.norm_type, self.scale_grad_by_freq, self.sparse)


QUANT_LAYERS = {nn.Conv2d: QuantConv2d, nn.Linear: QuantLinear, nn.Embedding: QuantEmbedding}


def quantize_model(model: nn.Module, weight_bits: int, act_bits: int, end_bits: int | None = None) -> nn.Module:
    """Quantise every nn.Conv2d, nn.Linear and nn.Embedding of `model` in place (LSQ, per tensor); return it.

    Each such layer becomes a QuantConv2d/QuantLinear holding the same weight and bias
    Parameters under the same names, plus `weight_quant` (signed, `weight_bits`) and
    `act_quant` (on the layer's input, `act_bits`, signedness from the first batch). 32 bits
    means no quantiser; with both at 32 the model is returned untouched. A float state_dict
    loads into the quantised model with strict=False (missing keys: the quantisers' only).
    Layers are matched by exact type: subclasses with a forward of their own are left alone.
    Step sizes initialise lazily (see LSQQuantizer): run one training-mode forward on real data
    before evaluating, and before stacking copies for torch.func (the initialisation writes to
    the module, which a functional call cannot). With `end_bits`, the model's ends — every
    Embedding and its last Linear (a language model's input and output layers) — get weights of
    that many bits instead (the ablation that keeps them at 8).
    """
    if end_bits is not None and end_bits != weight_bits:
        ends = [m for m in model.modules() if type(m) is nn.Embedding]
        ends = {id(m.weight) for m in ends + [m for m in model.modules() if type(m) is nn.Linear][-1:]}
        quantize_model(model, weight_bits, act_bits)
        for layer in model.modules():
            if isinstance(layer, (QuantEmbedding, QuantLinear)) and id(layer.weight) in ends:
                kw = dict(device=layer.weight.device, dtype=layer.weight.dtype)
                layer.weight_quant = LSQQuantizer(end_bits, "weight", **kw) if end_bits < FLOAT_BITS else None
        return model
    for bits in (weight_bits, act_bits):
        if bits != FLOAT_BITS and not 2 <= bits <= MAX_BITS:
            raise ValueError(f"bits must be {FLOAT_BITS} (float) or in 2..{MAX_BITS}, got {bits}")
    if weight_bits == act_bits == FLOAT_BITS:
        return model
    if any(isinstance(m, LSQQuantizer) for m in model.modules()):
        raise ValueError("model is already quantised")
    if type(model) in QUANT_LAYERS:  # a bare layer cannot be replaced inside a parent
        return QUANT_LAYERS[type(model)].from_float(model, weight_bits, act_bits)
    replaced = {}  # a layer shared by two parents keeps one quantised copy
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) in QUANT_LAYERS:
                if id(child) not in replaced:
                    replaced[id(child)] = QUANT_LAYERS[type(child)].from_float(child, weight_bits, act_bits)
                setattr(parent, name, replaced[id(child)])
    return model


def _quant_layers(model: nn.Module):
    """(name, layer) for every layer whose weight is quantised."""
    for name, m in model.named_modules():
        if isinstance(m, (QuantConv2d, QuantLinear, QuantEmbedding)) and m.weight_quant is not None:
            yield name, m


# ---------------------------------------------------------------------------------------------
# Storage and integer export


def storage_bits(model: nn.Module) -> int:
    """Bits to store the model: quantised weights at their bit-width, every other parameter
    (BatchNorm affine, biases, every step size) at 32 bits.

    Buffers are not counted: BatchNorm running statistics fold into the affine at inference.
    A float model therefore counts 32 bits a parameter (frozen parameters included).
    """
    bits = {id(m.weight): m.weight_quant.bits for _, m in _quant_layers(model)}
    return sum(p.numel() * bits.get(id(p), FLOAT_BITS) for p in model.parameters())


class IntegerWeight(NamedTuple):
    codes: torch.Tensor  # integers in [−Q_N, Q_P]: int8 for bits ≤ 8, else int16
    step: float
    bits: int


def export_integer_weights(model: nn.Module) -> dict[str, IntegerWeight]:
    """The integer codes and step of every quantised weight, keyed by module name.

    codes·step is exactly the weight that the model's forward uses.
    """
    out = {}
    for name, m in _quant_layers(model):
        q = m.weight_quant
        if not q.flags()[0]:
            raise RuntimeError(f"{name}: weight step size not initialised (run a forward first)")
        qn, qp = qrange(q.bits, True)
        with torch.no_grad():
            codes = torch.clamp(m.weight / q.step, -qn, qp).round()  # the same ops as _LSQ.forward
        dtype = torch.int8 if q.bits <= 8 else torch.int16
        out[name] = IntegerWeight(codes.to(dtype), q.step.item(), q.bits)
    return out


@torch.no_grad()
def load_integer_weights(model: nn.Module, weights: dict[str, IntegerWeight]) -> nn.Module:
    """Set each named layer's weight to codes·step (and its weight quantiser's step); return model.

    Works on the quantised model (requantising codes·step with the same step gives the codes
    back, so the forward is unchanged) and on a float model of the same shape.
    """
    for name, w in weights.items():
        layer = model.get_submodule(name)
        step = torch.tensor(w.step, dtype=layer.weight.dtype, device=layer.weight.device)
        layer.weight.copy_(w.codes.to(layer.weight.dtype) * step)
        q = getattr(layer, "weight_quant", None)
        if q is not None:
            if q.bits != w.bits:
                raise ValueError(f"{name}: codes have {w.bits} bits, the layer quantises to {q.bits}")
            q.set_step(step, signed=True)
    return model


# ---------------------------------------------------------------------------------------------
# Compute and activation memory of one sample's forward pass


@contextlib.contextmanager
def _probe(model: nn.Module):
    """Eval mode with quantisers bypassed: a dummy forward then changes no BN statistics and
    neither needs nor initialises step sizes. Restores every module's mode afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    quantizers = [m for m in model.modules() if isinstance(m, LSQQuantizer)]
    model.eval()
    for q in quantizers:
        q.enabled = False
    try:
        yield
    finally:
        for q in quantizers:
            q.enabled = True
        for m, training in modes:
            m.training = training


def _dummy_forward(model: nn.Module, input_shape, layers, hook) -> None:
    """One forward of a zero sample of `input_shape` (no batch dim) with `hook` on `layers`."""
    handles = [m.register_forward_hook(hook) for m in layers]
    p = next(model.parameters(), None)
    kw = dict(device=p.device, dtype=p.dtype) if p is not None else {}
    if any(isinstance(m, nn.Embedding) for m in model.modules()):
        kw["dtype"] = torch.long  # token ids (one example of shape (T,))
    try:
        with _probe(model), torch.no_grad():
            model(torch.zeros(1, *input_shape, **kw))
    finally:
        for h in handles:
            h.remove()


def macs(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Multiply-accumulates of one sample's forward pass, `input_shape` without the batch dim.

    Conv2d: out_h·out_w·k_h·k_w·(c_in/groups)·c_out; Linear: in·out (per position). A module with
    an `extra_macs(inputs, output)` method adds what its own forward multiplies outside such
    layers (attention's scores and weighted sums). Embedding lookups, bias adds, norms,
    activations and pooling are not MACs. Works on a model on the meta device, so a large width
    costs nothing to measure.
    """
    total = 0

    def hook(m, inputs, output):
        nonlocal total
        if hasattr(m, "extra_macs"):
            total += m.extra_macs(inputs, output)
            return
        per_output = m.kernel_size[0] * m.kernel_size[1] * m.in_channels // m.groups if isinstance(m, nn.Conv2d) else m.in_features
        total += output[0].numel() * per_output  # output[0]: the one sample's outputs

    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) or hasattr(m, "extra_macs")]
    _dummy_forward(model, input_shape, layers, hook)
    return total


def peak_activation_bytes(model: nn.Module, input_shape: tuple[int, ...], bits: int = FLOAT_BITS) -> int:
    """Peak activation memory of one sample's forward pass, in bytes at `bits` per value.

    Defined simply: the largest (input + output) size of any single layer (a module without
    children other than quantisers), an in-place layer's shared tensor counted once, rounded up
    to whole bytes. It is a per-layer lower bound, not an allocator measurement: tensors made
    in a forward's own code (residual sums, x.mean) and everything kept alive for later layers
    or for the backward pass are not seen.
    """
    peak = 0

    def numel(t) -> int:
        if isinstance(t, torch.Tensor):
            return t[0].numel()
        return sum(numel(u) for u in t) if isinstance(t, (tuple, list)) else 0

    def hook(m, inputs, output):
        nonlocal peak
        same = len(inputs) > 0 and output is inputs[0]  # in-place (ReLU(inplace=True))
        peak = max(peak, numel(inputs) + (0 if same else numel(output)))

    layers = [m for m in model.modules() if not isinstance(m, LSQQuantizer)
              and all(isinstance(c, LSQQuantizer) for c in m.children())]
    _dummy_forward(model, input_shape, layers, hook)
    return math.ceil(peak * bits / 8)


# ---------------------------------------------------------------------------------------------
# Width at equal storage


def solve_width(storage_fn: Callable[[int], int], budget_bits: float, lo: int = 1, hi: int | None = None,
                tol: float = 0.02) -> int:
    """The integer width in [lo, hi] whose storage_fn(width) (bits) is closest to `budget_bits`.

    storage_fn must be non-decreasing in width (it is for width-scaled families); a bisection
    then needs O(log width) calls. Without `hi` the search doubles from `lo` until the budget is
    reached. Raises ValueError, naming width, storage, budget and gap, when the closest width
    misses the budget by more than `tol` (relative): integer widths are coarse at small widths.
    """
    cache: dict[int, int] = {}

    def storage(w: int) -> int:
        if w not in cache:
            cache[w] = storage_fn(w)
        return cache[w]

    if hi is None:
        hi = lo
        while storage(hi) < budget_bits and hi < 2**24:  # 2**24: far beyond any width, a guard
            hi *= 2
    # Smallest width in [lo, hi] at or above the budget (hi if none is); its lower neighbour
    # is the only other candidate.
    a, b = lo, hi
    while a < b:
        mid = (a + b) // 2
        if storage(mid) >= budget_bits:
            b = mid
        else:
            a = mid + 1
    best = min((w for w in (a - 1, a) if lo <= w <= hi), key=lambda w: (abs(storage(w) - budget_bits), w))
    gap = (storage(best) - budget_bits) / budget_bits
    if abs(gap) > tol:
        raise ValueError(f"no width within {tol:.1%} of the budget: the closest, width {best}, stores "
                         f"{storage(best)} bits against a budget of {budget_bits:.0f} bits (relative gap {gap:+.2%})")
    return best
