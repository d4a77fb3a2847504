"""A view (mmembed/view.py): a second output head and tower shortcuts on the same LLM states. The model's vectors
are the score-level ensemble of the two heads (what ``mmembed eval --ensemble`` measures), the LLM running once;
it saves, loads, names its space, and refuses a view fitted on another LLM path."""

import json

import numpy as np
import pytest
import torch
from media_files import circle, square, tone

import mmembed
from mmembed.cli import main
from mmembed.evaluation.ensemble import ScoreEnsemble
from mmembed.fingerprint import space_id, text_space_id
from mmembed.view import ViewConfig, add_view, join_views

TOLERANCE = 1e-5  # the same vectors through other batch layouts and one more matmul: float32 rounding
TEXTS = ["a red square", "a blue circle", "the sound of rain", "Un chien."]


def random_head(dimension: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.eye(dimension) + 0.3 * torch.randn(dimension, dimension, generator=generator)


@pytest.fixture
def two_heads(make_multimodal_embedder, tmp_path):
    """A model and a second fit of it: the same LLM path, another head and other image shortcuts and weights."""
    torch.manual_seed(0)
    first = make_multimodal_embedder()
    first.fit_center(TEXTS)
    first.head = random_head(first.hidden_size, seed=1)
    first.modalities.add_shortcut("image", seed=3)
    first.config.shortcut_weights = {"image": 0.4}
    first.save_pretrained(tmp_path / "first")
    second = mmembed.load(str(tmp_path / "first"), device="cpu")
    second.head = random_head(second.hidden_size, seed=2)
    second.modalities.shortcuts["image"] = second.modalities.new_shortcut("image", seed=4)
    second.config.shortcut_weights = {"image": 0.7}
    return first, second, tmp_path


def test_the_vectors_are_the_score_ensemble_of_the_two_heads(two_heads):
    first, second, tmp_path = two_heads
    model = add_view(mmembed.load(str(tmp_path / "first"), device="cpu"), second, 0.3, {"image": 0.6, "audio": 0.0})
    assert model.dimension == 2 * model.hidden_size
    pictures, sounds = [square("red"), circle("blue")], [(tone(1.0), 16_000), (tone(0.5, hz=880.0), 16_000)]
    for inputs, share in ((TEXTS, 0.3), (pictures, 0.6), (sounds, 0.0)):
        expected = ScoreEnsemble(first, second, share).encode(inputs, instruction="query")
        got = model.encode(inputs, instruction="query")
        assert got.shape == (len(inputs), 2 * model.hidden_size)
        np.testing.assert_allclose(got, expected, atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(np.linalg.norm(got, axis=-1), 1.0, atol=1e-6)
    # media share 0: the sounds are the first model's vectors, the view's half zero
    np.testing.assert_allclose(
        got[:, : model.hidden_size], first.encode(sounds, instruction="query"), atol=TOLERANCE, rtol=0
    )
    assert not got[:, model.hidden_size :].any()
    # a text and an image score (1 - s) cos_first + s cos_second, with s = sqrt(s_text * s_image) in the mix
    text, image = model.encode("a red square"), model.encode(square("red"))
    cosines = [m.similarity(m.encode("a red square"), m.encode(square("red")))[0, 0] for m in (first, second)]
    expected = np.sqrt(0.7 * 0.4) * cosines[0] + np.sqrt(0.3 * 0.6) * cosines[1]
    assert model.similarity(text, image)[0, 0] == pytest.approx(expected, abs=TOLERANCE)


def test_a_primary_without_a_head_hands_the_view_the_raw_states(two_heads):
    """The shipped defaults' shape: no head on the primary, so its vectors are the states themselves; its shortcut
    blend must not leak into the states the view reads (the view then equals the second model alone)."""
    first, second, tmp_path = two_heads
    first.head = None
    first.config.shortcut_weights = {"image": 0.9}
    pictures = [square("red"), circle("blue"), square("green")]
    expected = ScoreEnsemble(first, second, 0.5, media_share=0.8).encode(pictures, instruction="query")
    model = add_view(first, second, 0.5, {"image": 0.8})
    np.testing.assert_allclose(model.encode(pictures, instruction="query"), expected, atol=TOLERANCE, rtol=0)


def test_a_bad_input_is_a_nan_row_in_both_halves(two_heads):
    first, second, tmp_path = two_heads
    model = add_view(first, second, 0.5)
    with pytest.warns(UserWarning, match="#1"):
        vectors = model.encode(["fine", "", square("red")], on_error="nan")
    assert np.isnan(vectors[1]).all() and np.isfinite(vectors[[0, 2]]).all()


def test_the_view_saves_loads_and_names_its_space(two_heads):
    first, second, tmp_path = two_heads
    spaces = (text_space_id(first), space_id(first))
    model = add_view(first, second, 0.3, {"audio": 0.0})
    assert text_space_id(model) != spaces[0] and space_id(model) != spaces[1]
    inputs = [*TEXTS, square("green")]
    before = model.encode(inputs)
    model.save_pretrained(tmp_path / "viewed")
    saved = json.loads((tmp_path / "viewed" / "view" / "view.json").read_text())
    assert saved["text_share"] == 0.3 and saved["media_shares"] == {"audio": 0.0}
    assert saved["shortcut_weights"] == {"image": 0.7}
    loaded = mmembed.load(str(tmp_path / "viewed"), device="cpu")
    assert loaded.dimension == 2 * loaded.hidden_size and loaded.config.dimension == loaded.hidden_size
    np.testing.assert_allclose(loaded.encode(inputs), before, atol=TOLERANCE, rtol=0)
    assert (text_space_id(loaded), space_id(loaded)) == (text_space_id(model), space_id(model))
    media_only = add_view(mmembed.load(str(tmp_path / "first"), device="cpu"), second, 0.3, {"audio": 0.5})
    assert text_space_id(media_only) == text_space_id(model)  # a media share moves media vectors only
    assert space_id(media_only) != space_id(model)


def test_a_view_on_another_llm_path_is_refused(two_heads):
    first, second, tmp_path = two_heads
    second.center = second.center + 0.1
    with pytest.raises(ValueError, match="differs in center"):
        add_view(first, second, 0.3)
    other = mmembed.load(str(tmp_path / "first"), device="cpu")
    other.center = None
    with torch.no_grad():
        next(other.modalities.projectors.parameters()).add_(0.1)
    with pytest.raises(ValueError, match="modality projectors; center"):
        add_view(first, other, 0.3)
    assert first.view is None and first.dimension == first.hidden_size


def test_a_model_holds_one_view(two_heads):
    first, second, tmp_path = two_heads
    add_view(first, second, 0.3)
    with pytest.raises(ValueError, match="the model already has a view"):
        add_view(first, second, 0.3)
    with pytest.raises(ValueError, match="the view's model already has a view"):
        add_view(mmembed.load(str(tmp_path / "first"), device="cpu"), first, 0.3)


def test_shares_are_checked():
    with pytest.raises(ValueError, match=r"text_share must lie in \[0, 1\], got 1.5"):
        ViewConfig(text_share=1.5)
    with pytest.raises(ValueError, match="names 'video'"):
        ViewConfig(text_share=0.3, media_shares={"video": 0.3})
    with pytest.raises(ValueError, match=r"the audio share must lie in \[0, 1\]"):
        ViewConfig(text_share=0.3, media_shares={"audio": -0.1})
    joined = join_views(torch.ones(2, 3), -torch.ones(2, 3), torch.tensor([0.0, 1.0]))
    torch.testing.assert_close(joined[0], torch.tensor([1.0, 1, 1, 0, 0, 0]) / 3**0.5)
    torch.testing.assert_close(joined[1], torch.tensor([0.0, 0, 0, -1, -1, -1]) / 3**0.5)


def test_the_add_view_command_writes_a_model_with_its_view(two_heads, capsys):
    first, second, tmp_path = two_heads
    second.save_pretrained(tmp_path / "second")
    out = tmp_path / "v7"
    args = ["add-view", "--model", str(tmp_path / "first"), "--view", str(tmp_path / "second"), "--device", "cpu"]
    assert main([*args, "--share", "0.3", "--media-share", "audio=0", "--out", str(out)]) == 0
    assert "view shares: text 0.3, image 0.3, audio 0" in capsys.readouterr().out
    loaded = mmembed.load(str(out), device="cpu")
    expected = ScoreEnsemble(first, second, 0.3).encode(TEXTS)
    np.testing.assert_allclose(loaded.encode(TEXTS), expected, atol=TOLERANCE, rtol=0)
    with pytest.raises(SystemExit):
        main([*args, "--share", "0.3", "--media-share", "video=0.2", "--out", str(out)])
    assert "is not KIND=SHARE" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*args, "--share", "1.2", "--out", str(out)])
    assert "is not a number from 0 to 1" in capsys.readouterr().err


def test_a_view_is_carried_across_a_stage_only_when_asked(two_heads, capsys):
    """A stage on top of the view's model trains its adapter and projectors; --carry-across takes the view onto it
    (recorded in view.json), and still refuses any other difference."""
    first, second, tmp_path = two_heads
    with torch.no_grad():
        next(second.modalities.projectors.parameters()).add_(0.1)
    with pytest.raises(ValueError, match=r"differs in modality projectors\): .*`mmembed add-view --carry-across`"):
        add_view(first, second, 0.3)
    second.save_pretrained(tmp_path / "second")
    args = ["add-view", "--model", str(tmp_path / "first"), "--view", str(tmp_path / "second"), "--device", "cpu"]
    assert main([*args, "--share", "0.3", "--carry-across", "--out", str(tmp_path / "carried")]) == 0
    assert "the view was fitted on another modality projectors" in capsys.readouterr().out
    loaded = mmembed.load(str(tmp_path / "carried"), device="cpu")
    assert loaded.view.config.carried_across == ["modality projectors"]
    model = add_view(first, second, 0.3, carry_across=True)
    np.testing.assert_allclose(loaded.encode(TEXTS), model.encode(TEXTS), atol=TOLERANCE, rtol=0)
    other = mmembed.load(str(tmp_path / "first"), device="cpu")
    other.center = other.center + 0.1
    with pytest.raises(ValueError, match="differs in center"):
        add_view(mmembed.load(str(tmp_path / "first"), device="cpu"), other, 0.3, carry_across=True)


def test_view_shares_can_be_overridden_inside_a_block_and_are_restored(two_heads):
    first, second, tmp_path = two_heads
    with pytest.raises(ValueError, match="this model has no view"):
        with first.overrides(view_shares={"audio": 0.5}):
            pass
    model = add_view(first, second, 0.3, {"image": 0.6})
    with pytest.raises(ValueError, match=r"names \['video'\]"):
        with model.overrides(view_shares={"video": 0.5}):
            pass
    with pytest.raises(ValueError, match=r"the image share must lie in \[0, 1\]"):
        with model.overrides(view_shares={"image": 1.5}):
            pass
    with model.overrides(view_shares={"text": 0.5, "image": 1.0}):
        assert (model.view.config.share(None), model.view.config.share("image")) == (0.5, 1.0)
        picture = model.encode([square("red")])
    assert not picture[0, : model.hidden_size].any()  # the image is the view's alone
    assert (model.view.config.share(None), model.view.config.share("image")) == (0.3, 0.6)
