import pytest
import torch

from tinyscale.families import build_model, count_params

# PROTOCOL.md §1, exact.
SCALECNN = {4: 21_936, 8: 80_348, 12: 175_336, 16: 306_900, 24: 679_756, 32: 1_198_916, 48: 2_676_148, 64: 4_738_596}
MOBILENETV2 = {
    0.10: 214_180, 0.15: 262_596, 0.25: 366_212, 0.35: 524_228, 0.50: 815_780,
    0.75: 1_483_524, 1.00: 2_351_972, 1.50: 5_129_252, 2.00: 8_953_188, 3.00: 19_803_748,
}


@pytest.mark.parametrize("c,expected", SCALECNN.items())
def test_scalecnn_parameter_count(c, expected):
    assert count_params(build_model("scalecnn", c, 100)) == expected == 1143 * c * c + 887 * c + 100


@pytest.mark.parametrize("w,expected", MOBILENETV2.items())
def test_mobilenetv2_parameter_count(w, expected):
    assert count_params(build_model("mobilenetv2", w, 100)) == expected


def test_mobilenetv2_has_stride_one_stem_with_default_init():
    model = build_model("mobilenetv2", 0.5, 100)
    stem = model.features[0][0]
    assert stem.stride == (1, 1) and stem.bias is None and stem.in_channels == 3
    # 32×32 input → 2×2 before pooling (a stride-2 stem would give 1×1)
    assert model.features(torch.zeros(1, 3, 32, 32)).shape[-1] == 2


@pytest.mark.parametrize("arch,width", [("scalecnn", 4), ("mobilenetv2", 0.25)])
def test_forward_shapes_rgb_and_grey(arch, width):
    assert build_model(arch, width, 100)(torch.zeros(2, 3, 32, 32)).shape == (2, 100)
    assert build_model(arch, width, 10, in_channels=1)(torch.zeros(2, 1, 8, 8)).shape == (2, 10)


def test_unknown_architecture_names_the_allowed_ones():
    with pytest.raises(ValueError, match="scalecnn.*mobilenetv2"):
        build_model("resnet", 1, 10)
    with pytest.raises(ValueError, match="integer"):
        build_model("scalecnn", 2.5, 10)
