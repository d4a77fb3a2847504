"""Model soups (mmembed/soup.py, ``mmembed soup``): the weighted average of every trained tensor of checkpoints of
one recipe, written as a model folder that loads; ingredients of other recipes are refused by name."""

import json

import numpy as np
import pytest
import torch
from media_files import square, tone

import mmembed
from mmembed.adapters import attach_adapter
from mmembed.cli import main
from mmembed.soup import soup

TEXTS = ["a red square", "the sound of rain", "Un chien."]
TOLERANCE = 1e-6  # the same weights loaded from two folders, the same batch: float32 rounding at most


def trained_tensors(model) -> dict[str, torch.Tensor]:
    tensors = {f"lora:{name}": p.detach().clone() for name, p in model.model.named_parameters() if "lora_" in name}
    tensors |= {f"projector:{k}": v.clone() for k, v in model.modalities.projectors.state_dict().items()}
    tensors |= {f"shortcut:{k}": v.clone() for k, v in model.modalities.shortcuts.state_dict().items()}
    return tensors


@pytest.fixture
def two_arms(make_multimodal_embedder, tmp_path):
    """A parent with a LoRA adapter, projectors and an image shortcut, and an arm that moved all three."""
    torch.manual_seed(0)
    parent = make_multimodal_embedder()
    parent.model = attach_adapter(parent.model, r=4, alpha=8, dropout=0.0, target_modules=["q_proj", "v_proj"])
    with torch.no_grad():
        for name, p in parent.model.named_parameters():
            if "lora_B" in name:  # peft starts B at zero: give the parent a delta of its own
                p.normal_(std=0.2)
    parent.modalities.add_shortcut("image", seed=3)
    parent.config.shortcut_weights = {"image": 0.5}
    parent.save_pretrained(tmp_path / "parent")
    (tmp_path / "parent" / "calibration.json").write_text("{}")  # an ingredient's own fit: never carried over
    arm = mmembed.load(str(tmp_path / "parent"), device="cpu")
    with torch.no_grad():
        for name, p in arm.model.named_parameters():
            if "lora_" in name:
                p.add_(torch.randn_like(p) * 0.3)
        for p in [*arm.modalities.projectors.parameters(), *arm.modalities.shortcuts.parameters()]:
            p.add_(torch.randn_like(p) * 0.1)
    arm.save_pretrained(tmp_path / "arm")
    return tmp_path


def test_the_soup_is_the_weighted_average_of_every_trained_tensor(two_arms):
    report = soup([two_arms / "parent", two_arms / "arm"], two_arms / "soup", weights=[3, 1])
    assert report.weights == [0.75, 0.25]
    weight_files = {"adapter/adapter_model.safetensors", "projectors.safetensors", "shortcuts.safetensors"}
    assert set(report.averaged) == weight_files
    assert "special_token_embeddings.safetensors" in report.identical and "mmembed_config.json" in report.identical
    assert report.dropped == ["calibration.json"] and not (two_arms / "soup" / "calibration.json").exists()
    recorded = json.loads((two_arms / "soup" / "soup.json").read_text())
    assert recorded["weights"] == [0.75, 0.25] and recorded["models"][1].endswith("arm")
    assert all(0 < d < 10 for d in report.averaged.values())

    parent, arm, mixed = (mmembed.load(str(two_arms / n), device="cpu") for n in ("parent", "arm", "soup"))
    a, b, got = trained_tensors(parent), trained_tensors(arm), trained_tensors(mixed)
    assert got.keys() == a.keys() and any(k.startswith("lora:") for k in got) and any("shortcut" in k for k in got)
    for key in got:
        torch.testing.assert_close(got[key], 0.75 * a[key] + 0.25 * b[key], rtol=0, atol=0)
    vectors = [m.encode(TEXTS) for m in (parent, arm, mixed)]
    assert not np.allclose(vectors[2], vectors[0], atol=1e-3) and not np.allclose(vectors[2], vectors[1], atol=1e-3)


def test_a_weight_of_one_gives_that_model_back(two_arms):
    soup([two_arms / "parent", two_arms / "arm"], two_arms / "all-arm", weights=[0, 1])
    arm, same = (mmembed.load(str(two_arms / n), device="cpu") for n in ("arm", "all-arm"))
    inputs = [*TEXTS, square("red"), (tone(1.0), 16_000)]
    np.testing.assert_allclose(same.encode(inputs), arm.encode(inputs), atol=TOLERANCE, rtol=0)


def test_models_of_another_recipe_are_refused_by_name(two_arms, make_multimodal_embedder):
    other = make_multimodal_embedder(pooling="last")
    other.save_pretrained(two_arms / "other")
    with pytest.raises(ValueError, match="'pooling' is 'mean' in .*parent but 'last' in .*other"):
        soup([two_arms / "parent", two_arms / "other"], two_arms / "soup")
    assert not (two_arms / "soup").exists()
    (two_arms / "arm" / "shortcuts.safetensors").unlink()
    with pytest.raises(ValueError, match=r"only in .*parent: \['shortcuts.safetensors'\]"):
        soup([two_arms / "parent", two_arms / "arm"], two_arms / "soup")
    with pytest.raises(ValueError, match="not an mmembed model folder"):
        soup([two_arms / "parent", two_arms], two_arms / "soup")


@pytest.mark.parametrize(
    ("weights", "message"),
    [([1.0], "one weight per model"), ([1.0, -1.0], "must be >= 0"), ([0.0, 0.0], "positive sum")],
)
def test_bad_weights_are_refused(two_arms, weights, message):
    with pytest.raises(ValueError, match=message):
        soup([two_arms / "parent", two_arms / "arm"], two_arms / "soup", weights=weights)


def test_one_model_or_a_used_folder_is_refused(two_arms):
    with pytest.raises(ValueError, match="at least two models"):
        soup([two_arms / "parent"], two_arms / "soup")
    with pytest.raises(ValueError, match="already exists"):
        soup([two_arms / "parent", two_arms / "arm"], two_arms / "arm")


def test_the_command_writes_the_soup_and_names_what_it_averaged(two_arms, capsys):
    out = two_arms / "cli-soup"
    assert main(["soup", "-m", str(two_arms / "parent"), "-m", str(two_arms / "arm"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "x 0.5" in printed and "averaged adapter/adapter_model.safetensors" in printed
    assert "mmembed calibrate" in printed  # the parent's calibration was dropped
    assert mmembed.load(str(out), device="cpu").encode(TEXTS).shape == (3, 32)
    assert main(["soup", "-m", str(two_arms / "parent"), "-m", str(two_arms / "arm"), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_a_folder_without_its_tokenizer_mixes_with_one_that_saved_it(two_arms):
    """A model saved before tokenizer/ was left out when the backbone rebuilds it still carries one."""
    assert not (two_arms / "parent" / "tokenizer").exists()
    arm = mmembed.load(str(two_arms / "arm"), device="cpu")
    arm.tokenizer.save_pretrained(two_arms / "arm" / "tokenizer")
    report = soup([two_arms / "parent", two_arms / "arm"], two_arms / "soup", weights=[0, 1])
    assert "tokenizer/tokenizer.json" in report.identical  # from the model that has one
    arm, same = (mmembed.load(str(two_arms / n), device="cpu") for n in ("arm", "soup"))
    np.testing.assert_allclose(same.encode(TEXTS), arm.encode(TEXTS), atol=TOLERANCE, rtol=0)


def test_an_adapter_config_listing_its_modules_in_another_order_is_the_same_recipe(two_arms):
    """peft saves target_modules, a set, as a list in whatever order the set iterates (shipped v8t and v9t differ)."""
    parent_modules = json.loads((two_arms / "parent" / "adapter" / "adapter_config.json").read_text())
    path = two_arms / "arm" / "adapter" / "adapter_config.json"
    settings = json.loads(path.read_text())
    settings["target_modules"] = list(reversed(parent_modules["target_modules"]))  # the set's order depends on hashing
    path.write_text(json.dumps(settings))
    assert parent_modules["target_modules"] != settings["target_modules"]  # the bytes differ ...
    report = soup([two_arms / "parent", two_arms / "arm"], two_arms / "soup")
    assert "adapter/adapter_config.json" in report.identical  # ... the recipe does not
    settings["r"] = 8
    path.write_text(json.dumps(settings))
    with pytest.raises(ValueError, match="adapter/adapter_config.json differs"):
        soup([two_arms / "parent", two_arms / "arm"], two_arms / "soup2")
