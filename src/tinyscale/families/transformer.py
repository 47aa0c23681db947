"""Transformer(d): a small decoder-only language model in the style of nanoGPT, width d = the
embedding size. Token and position embeddings (d each), `depth` pre-norm blocks of [LayerNorm →
causal self-attention with `heads` heads → residual; LayerNorm → Linear(d, 4d) → GELU →
Linear(4d, d) → residual], a final LayerNorm and an untied output layer Linear(d, vocabulary).

With vocabulary V, context T and depth L it has V·d + T·d (embeddings)
+ L·(2·2d [LayerNorms] + 3d² + 3d [qkv] + d² + d [projection] + 4d² + 4d + 4d² + d [MLP])
+ 2d (final LayerNorm) + d·V + V (output) parameters.

Every weight lives in an nn.Embedding or nn.Linear, so LSQ (tinyscale.quant) quantises the
embeddings, the attention, the MLP and the output layer alike; LayerNorms and biases stay float.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CausalSelfAttention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, d = x.shape
        q, k, v = (z.view(n, t, self.heads, d // self.heads).transpose(1, 2) for z in self.qkv(x).split(d, dim=2))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(n, t, d))

    def extra_macs(self, inputs, output) -> int:
        """One sample's multiply-accumulates outside its Linear layers: the scores Q·Kᵀ and their
        weighted sum of V, T·T·d each, as computed (the causal mask halves what matters, not the work)."""
        _, t, d = inputs[0].shape
        return 2 * t * t * d


class Block(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(width), CausalSelfAttention(width, heads)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class Transformer(nn.Module):
    def __init__(self, width: int, num_classes: int, input_shape: tuple, depth: int = 2, heads: int = 2):
        super().__init__()
        if depth < 1:
            raise ValueError(f"Transformer depth must be at least 1 block, got {depth}")
        if len(input_shape) != 1:
            raise ValueError(f"Transformer reads token windows (one example of shape (T,)), got examples of shape {input_shape}")
        if heads < 1 or width % heads:
            raise ValueError(f"Transformer width {width} must be a multiple of its {heads} attention heads")
        (context,) = input_shape
        self.tok, self.pos = nn.Embedding(num_classes, width), nn.Embedding(context, width)
        self.blocks = nn.Sequential(*(Block(width, heads) for _ in range(depth)))
        self.ln_f, self.head = nn.LayerNorm(width), nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(x.shape[1], device=x.device)
        return self.head(self.ln_f(self.blocks(self.tok(x) + self.pos(positions))))
