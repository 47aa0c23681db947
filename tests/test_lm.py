"""Language modelling: WikiText-2's raw layout read from generated files, the King James stand-in
through the same reader, the transformer family's exact size, and what its quantised form costs
(storage, MACs) counted by hand."""

import shutil
import zipfile

import numpy as np
import pytest
import torch

from tinyscale import families
from tinyscale.datasets import prepare, wikitext
from tinyscale.io import CorruptFile
from tinyscale.quant import QuantEmbedding, export_integer_weights, load_integer_weights, macs, quantize_model, storage_bits

TEXT = {"train": " = Valkyria Chronicles III = \n\n Senjō no Valkyria 3 : Unrecorded Chronicles ( Japanese : 戦場のヴァルキュリア3 ) " * 3,
        "valid": " = Homarus gammarus = \n", "test": " = Robert Boulter = \n\n Robert Boulter is an English film actor . " * 2}


def _zip(tmp_path, texts=TEXT, name="wikitext-2-raw-v1.zip"):
    path = tmp_path / name
    wikitext.write_wikitext_zip(path, texts)
    return path


def test_wikitext_windows_are_bytes_with_the_next_byte_as_target(tmp_path):
    path = _zip(tmp_path)
    ds = prepare({"dataset": "wikitext2", "verify_md5": True}, {"wikitext-2-raw-v1.zip": path})
    train = TEXT["train"].encode("utf-8")
    n = (len(train) - 1) // wikitext.CONTEXT
    assert ds.train_x.shape == ds.train_y.shape == (n, 64) and ds.train_x.dtype == np.uint8
    assert bytes(ds.train_x[1]) == train[64:128] and bytes(ds.train_y[1].astype(np.uint8)) == train[65:129]
    assert ds.test_x.shape[0] == (len(TEXT["test"].encode()) - 1) // 64
    assert ds.num_classes == 256 and ds.example_shape == (64,) and ds.mean.size == 0


@pytest.mark.parametrize("damage,message", [
    ("member", r"has no wikitext-2-raw/wiki\.test\.raw"),
    ("not_zip", r"is not a zip archive"),
    ("latin1", r"wiki\.train\.raw is not UTF-8 text"),
    ("short", r"holds no window of 64 bytes"),
])
def test_a_wrong_wikitext_archive_is_named(tmp_path, damage, message):
    path = tmp_path / "wikitext-2-raw-v1.zip"
    if damage == "member":
        _zip(tmp_path, {"train": TEXT["train"], "valid": ""})
    elif damage == "not_zip":
        path.write_text("<html>not found</html>")
    elif damage == "latin1":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("wikitext-2-raw/wiki.train.raw", "café".encode("latin-1") * 40)
            z.writestr("wikitext-2-raw/wiki.test.raw", "x" * 100)
    else:
        _zip(tmp_path, {"train": TEXT["train"], "test": "too short"})
    with pytest.raises((CorruptFile, ValueError), match=message):
        wikitext.read_wikitext(path)


@pytest.mark.skipif(shutil.which("bible") is None, reason="Debian's bible-kjv is not installed (setup.sh installs it)")
def test_the_king_james_stand_in_is_built_the_same_each_time_and_read_like_wikitext(tmp_path):
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    wikitext.build_kjv(a)
    wikitext.build_kjv(b)
    assert a.read_bytes() == b.read_bytes()
    ds = prepare({"dataset": "kjv"}, {"kjv_wikitext.zip": a})
    assert len(ds.train_x) == wikitext.KJV.train_size == 5941 and len(ds.test_x) == 2846
    assert bytes(ds.train_x[0]).startswith(b"\nGenesis 1\n\n  1 In the beginning God created the heaven")
    with zipfile.ZipFile(a) as z:
        assert z.read("wikitext-2-raw/wiki.test.raw").decode().lstrip().startswith("Numbers 1")


def _counts(V, T, d, L):
    block = 2 * 2 * d + (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d)
    return V * d + T * d + L * block + 2 * d + d * V + V


@pytest.mark.parametrize("d,T", [(8, 16), (32, 64)])
def test_transformer_has_the_counted_parameters_and_predicts_every_position(d, T):
    model = families.build_model("transformer", d, 256, 1, (T,))
    assert sum(p.numel() for p in model.parameters()) == _counts(256, T, d, 2)
    assert model(torch.randint(0, 256, (3, T))).shape == (3, T, 256)


def test_transformer_is_causal():
    torch.manual_seed(0)
    model = families.build_model("transformer", 8, 256, 1, (16,)).eval()
    x = torch.randint(0, 256, (1, 16))
    y = x.clone()
    y[0, 10:] = (y[0, 10:] + 1) % 256  # a changed future
    assert torch.equal(model(x)[0, :10], model(y)[0, :10]) and not torch.equal(model(x)[0, 10:], model(y)[0, 10:])


def test_transformer_widths_are_multiples_of_its_heads():
    with pytest.raises(ValueError, match="Transformer width must be a multiple of 2, got 7"):
        families.get("transformer").format_width(7)
    from tinyscale.families.transformer import Transformer

    with pytest.raises(ValueError, match="width 12 must be a multiple of its 5 attention heads"):
        Transformer(12, 256, (16,), heads=5)


def test_quantised_transformer_storage_and_macs_counted_by_hand():
    V, T, d, L = 256, 16, 8, 2
    with torch.device("meta"):
        model = quantize_model(families.build_model("transformer", d, V, 1, (T,)), 4, 8)
    # at b bits: both embeddings, every Linear (qkv, proj, the MLP's two, the output layer)
    quantised = V * d + T * d + L * (3 * d * d + d * d + 4 * d * d + 4 * d * d) + d * V
    steps = 2 + 4 * L + 1 + (4 * L + 1)  # weight steps (embeddings, linears), input steps (linears only)
    assert storage_bits(model) == 4 * quantised + 32 * (_counts(V, T, d, L) - quantised) + 32 * steps
    # per position: each Linear's in·out; per layer: Q·Kᵀ and the weighted sum of V, T·T·d each
    per_token = L * (3 * d * d + d * d + 4 * d * d + 4 * d * d) + d * V
    assert macs(model, (T,)) == T * per_token + L * 2 * T * T * d


def test_an_embedding_is_stored_as_b_bit_codes_times_one_step():
    torch.manual_seed(0)
    model = quantize_model(families.build_model("transformer", 8, 256, 1, (16,)), 2, 8).train()
    x = torch.randint(0, 256, (4, 16))
    model(x)  # the steps initialise from the first training forward
    assert isinstance(model.tok, QuantEmbedding)
    codes = export_integer_weights(model)
    assert set(codes) >= {"tok", "pos", "head"} and set(codes["tok"].codes.unique().tolist()) <= {-2, -1, 0, 1}
    model.eval()
    before = model(x)
    load_integer_weights(model, codes)
    assert torch.equal(model(x), before)


def test_the_ablation_keeps_the_embeddings_and_the_output_layer_at_8_bits():
    V, T, d = 256, 16, 8
    with torch.device("meta"):
        plain = quantize_model(families.build_model("transformer", d, V, 1, (T,)), 2, 8)
        ends = quantize_model(families.build_model("transformer", d, V, 1, (T,)), 2, 8, end_bits=8)
    assert (ends.tok.weight_quant.bits, ends.pos.weight_quant.bits, ends.head.weight_quant.bits) == (8, 8, 8)
    assert ends.blocks[0].attn.qkv.weight_quant.bits == ends.blocks[1].mlp[2].weight_quant.bits == 2
    assert storage_bits(ends) - storage_bits(plain) == (8 - 2) * (V * d + T * d + d * V)


def test_a_task_arm_with_the_ablation_plans_its_e8_models_at_the_same_budget():
    from tinyscale.config import validate_config
    from tinyscale.studies import precision, recipes, run_table

    def config(ablate):
        return validate_config({
            "name": "t", "data": {"dataset": "digits"}, "models": {"scalecnn": [2]}, "seeds": [0],
            "augment": {"cutout": 2}, "analysis": {"bottom_k": [3, 5]},
            "studies": {"precision": {"enabled": True, "budget_widths": [2], "bits": [32, 8, 2], "tolerance": 0.3,
                                      "seeds": [0], "tasks": [{"dataset": "kjv", "family": "transformer",
                                                               "budget_widths": [8], "ablate_ends": ablate}]}}})

    on, off = config(True), config(False)
    arm = precision.task_arms(on)[1]
    models = precision.plan(on, arm)
    e8 = [m for m in models if m.end_bits == 8]
    assert [m.bits for m in e8] == [2] and e8[0].arms == ("e8",) and e8[0].width % 2 == 0
    assert abs(e8[0].storage_bits / e8[0].budget_bits - 1) <= 0.3
    assert e8[0].width < next(m.width for m in models if m.bits == 2 and m.end_bits is None)  # 8-bit ends cost width
    assert {m.bits for m in models if "e8" in m.arms} == {32, 8, 2}  # fp32 and 8-bit are its references
    ids = {r.id for r in run_table(on)} - {r.id for r in run_table(off)}
    assert any("qat_w2a8e8_plain-on_kjv" in i for i in ids)
    assert recipes(on)["qat_w2a8e8_plain"].end_bits == 8 and "end_bits" not in recipes(off)["qat_w2a8_plain"].as_dict()
    # the main arm's plan does not move
    assert precision.plan(on) == precision.plan(off)
