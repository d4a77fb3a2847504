"""The shipped trained checkpoint (mmembed-default) on the real packaged backbone and towers."""

import numpy as np
import pytest
import torch
from media_files import circle, square, tone

import mmembed
from encoders.shortcut import ShortcutEnsemble

pytestmark = pytest.mark.integration


def test_shipped_checkpoint_loads_and_embeds_every_modality(tmp_path):
    model = mmembed.load("mmembed-default", device="cpu")
    assert hasattr(model.model, "peft_config") and model.center is not None
    assert model.config.backbone == "gemma3-270m" and set(model.modalities.kinds) == {"image", "audio"}
    vectors = model.encode(["a red square", square("red", 224), (tone(1.0), 16_000)])
    assert model.hidden_size == 640 and model.dimension == 1280  # Gemma-3-270m's states and its view side by side
    assert vectors.shape == (3, 1280) and np.isfinite(vectors).all()
    # Across batch compositions (one item vs a mixed batch of three) kernels differ in the last bits: a tolerance.
    alone = model.encode(["a red square"])
    np.testing.assert_allclose(alone, vectors[:1], atol=1e-5, rtol=0)
    # The very same computation after a save/load round trip is bit-for-bit.
    model.save_pretrained(tmp_path / "copy")
    np.testing.assert_array_equal(mmembed.load(str(tmp_path / "copy"), device="cpu").encode(["a red square"]), alone)


def test_centering_spreads_unrelated_texts_apart():
    model = mmembed.load("mmembed-default", device="cpu")
    sims = model.similarity(
        *[model.encode(["A frog.", "A green frog on a leaf.", "A fire truck.", "A banana."], instruction="query")] * 2
    )
    assert sims[0, 1] > max(sims[0, 2], sims[0, 3]) and sims[0, 2] < 0.8


def primary_half(model, vectors: np.ndarray) -> np.ndarray:
    """The primary view's unit vectors inside a model-with-a-view's vectors (their first hidden-size entries)."""
    half = vectors[:, : model.hidden_size]
    return half / np.linalg.norm(half, axis=1, keepdims=True)


def test_shipped_default_blends_its_tower_shortcuts():
    model = mmembed.load("mmembed-default", device="cpu")
    with model.overrides(final_weights={"image": 0.0}):  # the tower shortcuts' blend, before the final shortcut's
        check_the_tower_shortcut_blend(model)


def check_the_tower_shortcut_blend(model) -> None:
    assert set(model.modalities.shortcuts) == {"image", "audio"}
    assert all(0 < w < 1 for w in model.config.shortcut_weights.values())
    image = square("red", 224)
    blended = primary_half(model, model.encode([image]))
    with model.overrides(shortcut_weights={"image": 0.0}):
        llm_only = primary_half(model, model.encode([image]))
    with model.overrides(shortcut_weights={"image": 1.0}):
        shortcut_only = primary_half(model, model.encode([image]))
    w = model.config.shortcut_weights["image"]
    expected = (1 - w) * llm_only + w * shortcut_only
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(blended, expected, atol=1e-5, rtol=0)
    assert float((llm_only @ shortcut_only.T).item()) < 0.999  # the shortcut is a second, different view


def test_g1_2_is_g1_1_with_a_final_image_shortcut():
    """g1.2 = g1.1's files and a final image shortcut (an MLP from the image tower onto the final vectors, blended at
    0.5): at weight 0 every vector is g1.1's; texts and sounds never pass through it."""
    model = mmembed.load("mmembed-multisource-g1.2", device="cpu")
    g1_1 = mmembed.load("mmembed-multisource-g1.1", device="cpu")
    final = model.final_shortcut
    assert final.config.weights == {"image": 0.5} and final.config.hidden_dim == 2048
    assert set(final.shortcuts) == {"image"}
    inputs = ["a red square", square("red", 224), circle("blue", 224), (tone(1.0), 16_000)]
    vectors = model.encode(inputs, instruction="query")
    before = g1_1.encode(inputs, instruction="query")
    with model.overrides(final_weights={"image": 0.0}):
        np.testing.assert_allclose(model.encode(inputs, instruction="query"), before, atol=1e-6, rtol=0)
    with model.overrides(final_weights={"image": 1.0}):
        mapped = model.encode(inputs[1:3], instruction="query")
    np.testing.assert_allclose(vectors[[0, 3]], before[[0, 3]], atol=1e-6, rtol=0)
    expected = 0.5 * before[1:3] + 0.5 * mapped
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(vectors[1:3], expected, atol=1e-5, rtol=0)
    assert np.abs(vectors[1:3] - before[1:3]).max() > 1e-2  # the map does move the images


def test_g1_3_is_g1_2_with_a_final_audio_shortcut():
    """g1.3 = g1.2's files, its final image map rounded to float16 (how g1.3 stores both maps), and a final audio map
    (an MLP from the audio tower onto the final vectors, blended at 0.3): texts are g1.2's vectors; with the audio map
    at weight 0 sounds are too, and images within float16's rounding of the image map."""
    model = mmembed.load("mmembed-multisource-g1.3", device="cpu")
    g1_2 = mmembed.load("mmembed-multisource-g1.2", device="cpu")
    final = model.final_shortcut
    assert final.config.weights == {"image": 0.5, "audio": 0.3} and final.config.storage == "float16"
    assert final.config.hidden_dim == 2048 and set(final.shortcuts) == {"image", "audio"}
    for name, value in final.shortcuts["image"].state_dict().items():
        expected = g1_2.final_shortcut.shortcuts["image"].state_dict()[name].half().float()
        assert torch.equal(value, expected), name
    inputs = ["a red square", square("red", 224), (tone(1.0), 16_000), (tone(0.7, hz=880.0), 16_000)]
    vectors = model.encode(inputs, instruction="query")
    before = g1_2.encode(inputs, instruction="query")
    np.testing.assert_allclose(vectors[0], before[0], atol=1e-6, rtol=0)  # texts never pass through a final map
    with model.overrides(final_weights={"audio": 0.0}):
        own = model.encode(inputs, instruction="query")
    np.testing.assert_allclose(own[2:], before[2:], atol=1e-6, rtol=0)
    np.testing.assert_allclose(own[1], before[1], atol=2e-3, rtol=0)  # the image map's float16 rounding
    with model.overrides(final_weights={"audio": 1.0}):
        mapped = model.encode(inputs[2:], instruction="query")
    expected = 0.7 * own[2:] + 0.3 * mapped
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(vectors[2:], expected, atol=1e-5, rtol=0)
    assert np.abs(vectors[2:] - before[2:]).max() > 1e-2  # the map does move the sounds


def test_g1_3_carries_g1_1s_own_view_at_its_fitted_shares():
    """g1.1's view (g1.2's, g1.3's and g1.5's too) was fitted on its own LLM path (nothing carried across); each part
    of a vector is weighted by its share (texts 0.5 and images 0.8 as v7; sounds 1.0 in g1.1-g1.3, fitted with the
    transcript weight on never-trained audio: a sound is the view's alone), and its sts instruction is the query
    text."""
    model = mmembed.load("mmembed-multisource-g1.3", device="cpu")
    assert model.view.config.carried_across == []
    assert model.config.instructions["sts"] == model.config.instructions["query"]
    inputs = ["a red square", "Un chien.", square("red", 224), (tone(1.0), 16_000)]
    with model.overrides(final_weights={"image": 0.0, "audio": 0.0}):  # the view's join, before the final maps' blend
        vectors = model.encode(inputs, instruction="query")
    shares = [model.view.config.share(kind) for kind in (None, None, "image", "audio")]
    assert shares == [0.5, 0.5, 0.8, 1.0]
    assert not vectors[3, : model.hidden_size].any()
    np.testing.assert_allclose(np.linalg.norm(vectors[:, model.hidden_size :], axis=1), np.sqrt(shares), atol=1e-6)
    np.testing.assert_allclose(model.encode(inputs[:2], instruction="sts"), vectors[:2], atol=1e-5, rtol=0)


def test_g1_5_is_g1_3_reading_new_sentences_and_the_image_summary():
    """g1.5 = g1.3's LLM path and view, its transcript weight (0.6) and the view's audio share (0.9) chosen on new
    sentences, g1.3's audio map bit for bit at 0.4, and a final image map reading the image summary of blocks 10, 14
    and 15 beside the last layer (blended at 0.5): texts are g1.3's vectors, and so are images before the final map."""
    model = mmembed.load("mmembed-multisource-g1.5", device="cpu")
    g1_3 = mmembed.load("mmembed-multisource-g1.3", device="cpu")
    final = model.final_shortcut
    assert final.config.weights == {"image": 0.5, "audio": 0.4} and final.config.storage == "float16"
    assert model.config.audio_tower["transcript_weight"] == 0.6 and model.view.config.share("audio") == 0.9
    assert [model.view.config.share(kind) for kind in (None, "image")] == [0.5, 0.8]
    assert model.modalities.tower_configs["image"].summary_blocks == (10, 14, 15)
    assert final.shortcuts["image"].in_dim == 1280 + 2 * (112 + 192 + 320)
    for name, value in final.shortcuts["audio"].state_dict().items():
        assert torch.equal(value, g1_3.final_shortcut.shortcuts["audio"].state_dict()[name]), name
    inputs = ["a red square", square("red", 224), circle("blue", 224)]
    vectors = model.encode(inputs, instruction="query")
    np.testing.assert_allclose(vectors[0], g1_3.encode(inputs[:1], instruction="query")[0], atol=1e-6, rtol=0)
    with model.overrides(final_weights={"image": 0.0}):
        own = model.encode(inputs[1:], instruction="query")
    with g1_3.overrides(final_weights={"image": 0.0}):
        np.testing.assert_allclose(own, g1_3.encode(inputs[1:], instruction="query"), atol=1e-6, rtol=0)
    with model.overrides(final_weights={"image": 1.0}):
        mapped = model.encode(inputs[1:], instruction="query")
    expected = 0.5 * own + 0.5 * mapped
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(vectors[1:], expected, atol=1e-5, rtol=0)


def test_g1_6_is_g1_5_with_an_ensemble_of_four_image_maps():
    """g1.6 = g1.5 with its final image map fitted as four maps of g1.5's recipe (seeds 0-3), read as the mean of their
    unit outputs and blended at 0.6: texts and sounds are g1.5's vectors (its audio map bit for bit), and so are images
    before the final map."""
    model = mmembed.load("mmembed-multisource-g1.6", device="cpu")
    g1_5 = mmembed.load("mmembed-multisource-g1.5", device="cpu")
    final = model.final_shortcut
    assert final.config.weights == {"image": 0.6, "audio": 0.4} and final.config.storage == "float16"
    image_map = final.shortcuts["image"]
    assert isinstance(image_map, ShortcutEnsemble) and len(image_map.members) == 4
    assert image_map.in_dim == g1_5.final_shortcut.shortcuts["image"].in_dim == 1280 + 2 * (112 + 192 + 320)
    for name, value in final.shortcuts["audio"].state_dict().items():
        assert torch.equal(value, g1_5.final_shortcut.shortcuts["audio"].state_dict()[name]), name
    inputs = ["a red square", square("red", 224), circle("blue", 224), (tone(1.0), 16_000)]
    vectors = model.encode(inputs, instruction="query")
    before = g1_5.encode(inputs, instruction="query")
    np.testing.assert_allclose(vectors[[0, 3]], before[[0, 3]], atol=1e-5, rtol=0)  # a text, a sound: g1.5's
    images = inputs[1:3]
    with model.overrides(final_weights={"image": 0.0}):
        own = model.encode(images, instruction="query")
    with g1_5.overrides(final_weights={"image": 0.0}):
        np.testing.assert_allclose(own, g1_5.encode(images, instruction="query"), atol=1e-6, rtol=0)
    with model.overrides(final_weights={"image": 1.0}):
        mapped = model.encode(images, instruction="query")
    expected = 0.4 * own + 0.6 * mapped
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(vectors[1:3], expected, atol=1e-5, rtol=0)
    # The members are different fits: no two of them map an image alike, and their mean is none of them.
    features = torch.randn(2, image_map.in_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        outputs = [torch.nn.functional.normalize(m(features).float(), dim=-1) for m in image_map.members]
    cosines = [float((outputs[i] * outputs[j]).sum(-1).min()) for i in range(4) for j in range(i + 1, 4)]
    assert max(cosines) < 0.999, cosines


def test_the_default_g1_7_is_g1_6_whose_image_maps_also_learnt_handwritten_digits(tmp_path):
    """g1.7 = g1.6's recipe with 30 of each handwritten digit among the final image maps' training pairs: texts and
    sounds are g1.6's vectors (its audio map bit for bit), images before the final map too; held-out digits (the
    source's test split, never fitted) find their own digit's caption, which g1.6 does at chance."""
    from sklearn.datasets import load_digits

    from mmembed.data.sources.digits import NAMES, caption, digit_rows

    model = mmembed.load("mmembed-default", device="cpu")
    g1_6 = mmembed.load("mmembed-multisource-g1.6", device="cpu")
    final = model.final_shortcut
    assert final.config.weights == {"image": 0.6, "audio": 0.4} and "digits" in final.config.sources["image"]
    image_map = final.shortcuts["image"]
    assert isinstance(image_map, ShortcutEnsemble) and len(image_map.members) == 4
    for name, value in final.shortcuts["audio"].state_dict().items():
        assert torch.equal(value, g1_6.final_shortcut.shortcuts["audio"].state_dict()[name]), name
    inputs = ["a red square", (tone(1.0), 16_000)]
    np.testing.assert_allclose(model.encode(inputs), g1_6.encode(inputs), atol=1e-5, rtol=0)
    with model.overrides(final_weights={"image": 0.0}), g1_6.overrides(final_weights={"image": 0.0}):
        image = [square("red", 224)]
        np.testing.assert_allclose(model.encode(image), g1_6.encode(image), atol=1e-6, rtol=0)
    digits = load_digits()
    held = [r for r in digit_rows(digits.images, digits.target, tmp_path) if r["split"] == "test"][:60]
    truth = np.array([NAMES.index(r["label"]) for r in held])
    found = {}
    for name, embedder in (("g1.7", model), ("g1.6", g1_6)):
        captions = embedder.encode([caption(d) for d in range(10)], instruction="query")
        vectors = embedder.encode([tmp_path / r["image"] for r in held], instruction="document")
        found[name] = float(np.mean((vectors @ captions.T).argmax(1) == truth))
    assert found["g1.7"] >= 0.7 and found["g1.6"] <= 0.3, found  # 60 held-out digits (0.82 and 0.12); chance 0.1


def test_v8_is_v8t_beside_v7s_view_carried_across():
    """v8 = v8t's LLM path (its adapter and projectors; v6.1's center, special tokens and shortcuts) with v7's view
    (head, shortcuts, shares) carried across the text stage: the primary half is v8t's vector, the view is v7's."""
    model = mmembed.load("mmembed-multisource-v8", device="cpu")
    v8t = mmembed.load("mmembed-multisource-v8t", device="cpu")
    v7 = mmembed.load("mmembed-multisource-v7", device="cpu")
    inputs = ["a red square", "Un chien.", square("red", 224), (tone(1.0), 16_000)]
    vectors = model.encode(inputs, instruction="query")
    np.testing.assert_allclose(primary_half(model, vectors), v8t.encode(inputs, instruction="query"), atol=1e-5, rtol=0)
    assert torch.equal(model.view.head, v7.view.head)
    assert model.view.config.carried_across == ["LoRA adapter", "modality projectors"]
    shares = [model.view.config.share(kind) for kind in (None, None, "image", "audio")]
    assert shares == [v7.view.config.share(kind) for kind in (None, None, "image", "audio")]
    view_norms = np.linalg.norm(vectors[:, model.hidden_size :], axis=1)
    np.testing.assert_allclose(view_norms, np.sqrt(shares), atol=1e-6)  # each part weighted by its share
    # The view reads v8t's states, which the stage's anchors held near v6.1's: an image's view part stays near v7's.
    image = [square("red", 224)]
    ours, theirs = (m.encode(image, instruction="query")[:, m.hidden_size :] for m in (model, v7))
    agreement = float((ours @ theirs.T).item()) / float(np.linalg.norm(ours) * np.linalg.norm(theirs))
    assert agreement > 0.95, agreement


GLOSSES = {
    "dog": "dog: a member of the genus Canis that has been domesticated by man since prehistoric times.",
    "cat": "cat: feline mammal usually having thick soft fur and no ability to roar.",
    "oak": "oak: a deciduous tree of the genus Quercus; has acorns and lobed leaves.",
    "violin": "violin: bowed stringed instrument that is the highest member of the violin family.",
    "volcano": "volcano: a mountain formed by volcanic material.",
}
QUESTIONS = [f"What is {lemma}?" for lemma in GLOSSES]


def check_text_stage(stage, parent) -> np.ndarray:
    """A text stage (WordNet pairs, every other source anchored): each lemma question finds its gloss, and an image
    and a caption stay near the parent's vectors of them (the anchors held cosine 0.99 in training). Returns the
    stage's question vectors."""
    assert stage.view is None and stage.dimension == 576 and stage.calibration is not None
    queries = stage.encode(QUESTIONS, instruction="query")
    scores = queries @ stage.encode(list(GLOSSES.values()), instruction="document").T
    assert (np.argmax(scores, axis=1) == np.arange(len(GLOSSES))).all(), scores
    held = [square("red", 224), "A red apple."]
    agreement = (stage.encode(held, instruction="query") * parent.encode(held, instruction="query")).sum(axis=1)
    assert (agreement > 0.9).all(), agreement
    return queries


def test_the_v8_text_stage_moved_wordnet_texts_and_held_media_where_v6_1_put_them():
    """v8t's adapter trained on WordNet pairs by InfoNCE and the MiniLM teacher (here 0.996-0.999 of v6.1's)."""
    check_text_stage(
        mmembed.load("mmembed-multisource-v8t", device="cpu"), mmembed.load("mmembed-multisource-v6.1", device="cpu")
    )


def test_the_v9_text_stage_continued_v8t_and_held_media_where_v8t_put_them():
    """v9t continued v8t's adapter with mpnet's passage teacher beside MiniLM's: the text vectors moved, however
    little, and the media stayed."""
    v8t = mmembed.load("mmembed-multisource-v8t", device="cpu")
    queries = check_text_stage(mmembed.load("mmembed-multisource-v9t", device="cpu"), v8t)
    assert not np.allclose(queries, v8t.encode(QUESTIONS, instruction="query"))
