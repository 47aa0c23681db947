import numpy as np
import torch

from tinyscale.engine.augment import AugmentConfig, augment, cutout_mask, draw_epoch, normalize, random_crop
from tinyscale.engine.streams import epoch_generator
from tinyscale.runs import Run

CFG = AugmentConfig(crop_padding=4, flip=True, cutout=8)


def _draws(n=20_000, seed=0, epoch=0, cfg=CFG, width=16):
    return draw_epoch(n, 32, 32, cfg, epoch_generator(Run("scalecnn", width, "cosine", seed), epoch))


def test_draws_are_deterministic_per_seed_and_epoch():
    a, b, c = _draws(seed=1, epoch=3), _draws(seed=1, epoch=3), _draws(seed=1, epoch=4)
    assert torch.equal(a.order, b.order) and torch.equal(a.crop, b.crop) and torch.equal(a.centre, b.centre)
    assert not torch.equal(a.order, c.order)
    assert sorted(a.order.tolist()) == list(range(20_000))


def test_streams_are_independent_per_configuration_and_stable():
    """Two widths (or families) of one seed draw different data orders, augmentation and dropout
    streams, as in the original; the seeds come from a stable hash, not Python's salted hash()."""
    from tinyscale.engine.streams import dropout_generator, stream_seed

    a, b = _draws(seed=1, width=16), _draws(seed=1, width=32)
    assert not torch.equal(a.order, b.order) and not torch.equal(a.crop, b.crop)
    other = draw_epoch(20_000, 32, 32, CFG, epoch_generator(Run("mobilenetv2", 0.5, "cosine", 1), 0))
    assert not torch.equal(a.order, other.order)
    run = Run("scalecnn", 16, "cosine", 1)
    # sha256("scalecnn|16|1|epoch|0")[:8] >> 1: the same number in every process and on every machine
    assert stream_seed(run, "epoch", 0) == 0x5FDC3FE6B9BA6BD2
    assert stream_seed(run, "epoch", 0) < 2**63 and stream_seed(run, "epoch", 0) != stream_seed(run, "epoch", 1)
    assert stream_seed(run, "dropout") != stream_seed(Run("scalecnn", 32, "cosine", 1), "dropout")
    d1, d2 = dropout_generator(run), dropout_generator(run)
    assert torch.equal(torch.rand(5, generator=d1), torch.rand(5, generator=d2))


def test_protocol_distributions():
    d = _draws()
    # crop offsets uniform over 0..8 on each axis
    for axis in range(2):
        counts = torch.bincount(d.crop[:, axis], minlength=9).numpy()
        assert len(counts) == 9 and counts.min() > 0
        assert np.abs(counts / counts.sum() - 1 / 9).max() < 0.012
    assert abs(d.flip.float().mean().item() - 0.5) < 0.015
    # cutout centre uniform over the whole 32×32 image
    for axis in range(2):
        counts = torch.bincount(d.centre[:, axis], minlength=32).numpy()
        assert len(counts) == 32 and np.abs(counts / counts.sum() - 1 / 32).max() < 0.008


def test_crop_shifts_with_zero_padding():
    x = torch.arange(1, 17, dtype=torch.uint8).view(1, 1, 4, 4)
    out = random_crop(x, torch.tensor([[0, 0]]), padding=1)  # offset 0 = shifted down-right by 1
    assert out[0, 0, 0].tolist() == [0, 0, 0, 0] and out[0, 0, 1].tolist() == [0, 1, 2, 3]
    centred = random_crop(x, torch.tensor([[1, 1]]), padding=1)
    assert torch.equal(centred, x)


def test_cutout_box_is_clipped_at_the_border():
    m = cutout_mask(torch.tensor([[0, 0], [16, 16], [31, 5]]), 8, 32, 32)
    assert m[0].sum() == 4 * 4  # corner: half the box in each direction
    assert m[1].sum() == 64 and m[1, 0, 12:20, 12:20].all()
    assert m[2].sum() == 5 * 8  # rows 27..31 (clipped), columns 1..8


def test_augment_shapes_order_and_values():
    x = torch.full((3, 3, 32, 32), 255, dtype=torch.uint8)
    mean, std = torch.tensor([0.5, 0.5, 0.5]), torch.tensor([0.25, 0.25, 0.25])
    d = _draws(n=3)
    out = augment(x, d, torch.arange(3), CFG, mean, std)
    assert out.shape == x.shape and out.dtype == torch.float32
    values = set(out.unique().tolist())
    # 255 → 2.0; zero padding → (0 − 0.5)/0.25 = −2.0; cutout → exactly 0 after normalisation
    assert values <= {2.0, -2.0, 0.0} and 0.0 in values and 2.0 in values


def test_normalize():
    x = torch.tensor([[[[0, 255]]]], dtype=torch.uint8)
    out = normalize(x, torch.tensor([0.5]), torch.tensor([0.5]))
    assert out.flatten().tolist() == [-1.0, 1.0]
