"""The final shortcut in the embedder (mmembed/final_shortcut.py): a media vector blends the model's final vector
(after its view) with a map of its tower features at the configured weight; texts never pass through it; it saves,
loads, names its space and is dropped where the space it was fitted on changes."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from media_files import circle, square
from safetensors.torch import load_file
from test_view import TEXTS, random_head

import mmembed
from mmembed.final_shortcut import STORAGE, FinalShortcut, FinalShortcutConfig
from mmembed.fingerprint import space_id, text_space_id
from mmembed.view import add_view

TOLERANCE = 1e-5  # the same computation in other batch shapes: equal to float32 rounding


def pictures():
    return [square("red"), circle("blue"), square("green", offset=4)]


def give_final_shortcut(
    embedder, weight: float, seed: int = 5, hidden: int | None = None, storage: str = "float32"
) -> FinalShortcut:
    new = embedder.modalities.new_shortcut("image", seed, out_dim=embedder.dimension, hidden_dim=hidden, dropout=0.5)
    config = FinalShortcutConfig({"image": weight}, hidden_dim=hidden, sources={"image": "test"}, storage=storage)
    embedder.final_shortcut = FinalShortcut(config, torch.nn.ModuleDict({"image": new}))
    return embedder.final_shortcut


@pytest.fixture
def viewed(make_multimodal_embedder, tmp_path):
    """A model with a view (its final vectors are 2 x hidden size), saved, and loaded back."""
    torch.manual_seed(0)
    first = make_multimodal_embedder()
    first.modalities.add_shortcut("image", seed=3)
    first.config.shortcut_weights = {"image": 0.4}
    first.save_pretrained(tmp_path / "first")
    second = mmembed.load(str(tmp_path / "first"), device="cpu")
    second.head = random_head(second.hidden_size, seed=2)
    return add_view(mmembed.load(str(tmp_path / "first"), device="cpu"), second, 0.5, {"image": 0.8})


def test_an_item_vector_is_the_blend_of_the_final_vector_and_the_map(viewed):
    before = viewed.encode(pictures(), convert_to_tensor=True)
    final = give_final_shortcut(viewed, 0.3)
    got = viewed.encode(pictures(), convert_to_tensor=True)
    with torch.no_grad():
        mapped = F.normalize(final.shortcuts["image"](viewed.modalities.image_features(pictures())), dim=-1)
    assert mapped.shape == (3, 2 * viewed.hidden_size)  # onto the final (joined) space
    torch.testing.assert_close(got, F.normalize(0.7 * before + 0.3 * mapped, dim=-1), atol=TOLERANCE, rtol=0)
    assert (got - before).abs().max() > 1e-3
    np.testing.assert_allclose(torch.linalg.norm(got, dim=-1), 1.0, atol=1e-6)
    with viewed.overrides(final_weights={"image": 0.0}):
        torch.testing.assert_close(viewed.encode(pictures(), convert_to_tensor=True), before, atol=TOLERANCE, rtol=0)
    with viewed.overrides(final_weights={"image": 1.0}):
        torch.testing.assert_close(viewed.encode(pictures(), convert_to_tensor=True), mapped, atol=TOLERANCE, rtol=0)
    assert viewed.final_shortcut.config.weights == {"image": 0.3}  # the overrides are undone


def test_texts_and_bad_rows_are_untouched_and_the_text_space_keeps_its_id(viewed):
    texts = list(TEXTS)
    before, text_space, space = viewed.encode(texts), text_space_id(viewed), space_id(viewed)
    give_final_shortcut(viewed, 0.5)
    np.testing.assert_array_equal(viewed.encode(texts), before)  # the very same computation: bit for bit
    assert text_space_id(viewed) == text_space and space_id(viewed) != space
    with pytest.warns(UserWarning, match="#1"):
        mixed = viewed.encode(["a red square", "", square("red")], on_error="nan")
    assert np.isnan(mixed[1]).all() and np.isfinite(mixed[[0, 2]]).all()
    assert viewed.encode(square("red")).shape == (viewed.dimension,)  # one item: one vector, blended too
    np.testing.assert_allclose(viewed.encode(square("red")), mixed[2], atol=TOLERANCE, rtol=0)


def test_a_model_without_a_view_blends_into_its_unit_vectors(make_multimodal_embedder):
    torch.manual_seed(0)
    model = make_multimodal_embedder()
    plain = model.encode(pictures(), normalize=False, convert_to_tensor=True)
    give_final_shortcut(model, 0.5)
    got = model.encode(pictures(), normalize=False, convert_to_tensor=True)
    np.testing.assert_allclose(torch.linalg.norm(got, dim=-1), 1.0, atol=1e-6)  # blended rows are unit
    with model.overrides(final_weights={"image": 0.0}):
        same = model.encode(pictures(), normalize=False, convert_to_tensor=True)
    torch.testing.assert_close(same, plain, atol=TOLERANCE, rtol=0)  # weight 0: left as they were, not normalized


@pytest.mark.parametrize("hidden, storage", [(None, "float32"), (16, "float32"), (16, "float16")])
def test_it_saves_loads_and_changes_the_space_id_with_its_weights(viewed, tmp_path, hidden, storage):
    unrounded = give_final_shortcut(viewed, 0.4, hidden=hidden).shortcuts["image"].state_dict()
    final = give_final_shortcut(viewed, 0.4, hidden=hidden, storage=storage)
    for name, value in final.shortcuts["image"].state_dict().items():  # rounded to its storage when set
        assert value.dtype == torch.float32  # computing in the model's dtype
        torch.testing.assert_close(value, unrounded[name].to(STORAGE[storage]).float(), atol=0, rtol=0)
    inputs = [*TEXTS, square("green")]
    before, space = viewed.encode(inputs), space_id(viewed)
    np.testing.assert_array_equal(viewed.encode(inputs), before)  # no dropout at encode time: the same each call
    viewed.save_pretrained(tmp_path / "final")
    saved = json.loads((tmp_path / "final" / "final_shortcut" / "final_shortcut.json").read_text())
    assert saved == {"weights": {"image": 0.4}, "hidden_dim": hidden, "sources": {"image": "test"}, "storage": storage}
    tensors = load_file(str(tmp_path / "final" / "final_shortcut" / "shortcuts.safetensors"))
    assert {value.dtype for value in tensors.values()} == {STORAGE[storage]}
    loaded = mmembed.load(str(tmp_path / "final"), device="cpu")
    assert loaded.final_shortcut.config.weights == {"image": 0.4}
    assert space_id(loaded) == space  # the saved copy is the model in memory
    np.testing.assert_allclose(loaded.encode(inputs), before, atol=TOLERANCE, rtol=0)
    loaded.final_shortcut.config = FinalShortcutConfig({"image": 0.5})
    assert space_id(loaded) != space


def test_adding_a_view_or_training_drops_it_and_shortcut_fits_refuse_it(make_multimodal_embedder, tmp_path):
    from training.shortcut import refuse_a_view

    torch.manual_seed(0)
    model = make_multimodal_embedder()
    model.save_pretrained(tmp_path / "plain")
    give_final_shortcut(model, 0.5)
    with pytest.raises(ValueError, match="final shortcut"):
        refuse_a_view(model)  # a tower shortcut refit would move the vectors the map was fitted onto
    other = mmembed.load(str(tmp_path / "plain"), device="cpu")
    add_view(model, other, 0.5)
    assert model.final_shortcut is None  # its space is gone


def test_bad_final_shortcut_configs_are_refused(make_multimodal_embedder):
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        FinalShortcutConfig({"image": 1.2})
    with pytest.raises(ValueError, match="'video', not 'image' or 'audio'"):
        FinalShortcutConfig({"video": 0.5})
    with pytest.raises(ValueError, match="storage is 'int8', not one of float32, float16"):
        FinalShortcutConfig({"image": 0.5}, storage="int8")
    with pytest.raises(ValueError, match="blends maps for \\['audio'\\]"):
        FinalShortcut(FinalShortcutConfig({"audio": 0.5}), torch.nn.ModuleDict())
    model = make_multimodal_embedder()
    with pytest.raises(ValueError, match="no final shortcut"):
        with model.overrides(final_weights={"image": 0.5}):
            pass
    give_final_shortcut(model, 0.5)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        with model.overrides(final_weights={"image": 2.0}):
            pass
    assert model.final_shortcut.config.weights == {"image": 0.5}
