"""Fitting the final shortcut (training/final_shortcut.py, ``mmembed fit-shortcut --final``): a map from tower features
onto the model's own final query vectors, its weight chosen on a source never fitted on; the text side never moves."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from media_files import shape_rows, tone_rows

import mmembed
from encoders import ShortcutEnsemble
from mmembed.cli import main
from mmembed.data import write_manifest
from mmembed.final_shortcut import FinalShortcutConfig
from mmembed.fingerprint import space_id, text_space_id
from training.final_shortcut import (
    FinalShortcutFitConfig,
    capped_per_caption,
    final_queries,
    fit_final_shortcut,
    fit_map,
    pooled_pairs,
    standardization,
)
from training.shortcut import is_check

WEIGHTS = (0.0, 0.5, 1.0)


def held_shapes(folder):
    """Shapes of a source never fitted on, in captions the fit data does not have ("One ..." for "A ...")."""
    return [{**r, "text": "One" + r["text"][1:]} for r in shape_rows(folder, source="held-shapes")]


def test_the_map_learns_to_find_its_captions(make_multimodal_embedder, tmp_path):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    rows = shape_rows(tmp_path / "fit")
    media, kept = pooled_pairs(embedder, rows, "image", tmp_path / "cache")
    captions = [r["text"] for r in kept]
    queries = final_queries(embedder, captions, tmp_path / "cache")
    texts = torch.stack([queries[c] for c in captions])

    def accuracy(shortcut) -> float:
        with torch.no_grad():
            scores = torch.nn.functional.normalize(shortcut(media), dim=-1) @ texts.T
        return (scores.argmax(dim=1) == torch.arange(len(texts))).float().mean().item()

    chance = 1 / len(texts)  # a random tiny model's captions lie close together: far above chance is the bar
    for hidden in (None, 64):  # a linear map and an MLP
        untrained = embedder.modalities.new_shortcut("image", out_dim=embedder.dimension, hidden_dim=hidden)
        config = FinalShortcutFitConfig(steps=60, batch_size=16, hidden_dim=hidden)
        fitted = fit_map(embedder, "image", media, texts, captions, config)
        assert not fitted.training  # dropout is for the fit only
        assert fitted(media[:2]).shape == (2, embedder.dimension)
        assert accuracy(fitted) > max(10 * chance, 5 * accuracy(untrained)), (accuracy(fitted), accuracy(untrained))


def test_a_fit_with_dropout_is_the_same_whatever_drew_random_numbers_before(make_multimodal_embedder, tmp_path):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    media, kept = pooled_pairs(embedder, shape_rows(tmp_path / "fit"), "image", tmp_path / "cache")
    captions = [r["text"] for r in kept]
    texts = torch.nn.functional.normalize(torch.randn(len(kept), embedder.dimension), dim=-1)
    config = FinalShortcutFitConfig(steps=5, batch_size=16, hidden_dim=32, dropout=0.5)
    first = fit_map(embedder, "image", media, texts, captions, config).state_dict()
    torch.rand(7)  # another draw from the global generator between the two fits
    state = torch.random.get_rng_state()
    second = fit_map(embedder, "image", media, texts, captions, config).state_dict()
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's generator is left as it was
    assert all(torch.equal(first[name], second[name]) for name in first)
    other = fit_map(embedder, "image", media, texts, captions, dataclasses.replace(config, seed=1)).state_dict()
    assert not torch.equal(first["mlp.0.weight"], other["mlp.0.weight"])
    # an ensemble of two: the maps of seeds 0 and 1, each as it is fitted alone
    ensemble = fit_map(embedder, "image", media, texts, captions, dataclasses.replace(config, members=2))
    assert isinstance(ensemble, ShortcutEnsemble) and not ensemble.training
    for member, alone in zip(ensemble.members, (first, other)):
        assert all(torch.equal(member.state_dict()[name], alone[name]) for name in alone)
    with pytest.raises(ValueError, match="members is 0: a final map needs at least one"):
        FinalShortcutFitConfig(members=0)


def test_standardization_centres_and_scales_the_features_it_names():
    media = torch.tensor([[1.0, 10.0, 5.0, 0.0], [3.0, 30.0, 5.0, 2.0], [5.0, 50.0, 5.0, 4.0]])
    shift, scale = standardization(media, "all", summary_dim=2)
    torch.testing.assert_close(shift, torch.tensor([3.0, 30.0, 5.0, 2.0]))
    torch.testing.assert_close(scale, torch.tensor([2.0, 20.0, 1.0, 2.0]))  # a constant feature keeps scale 1
    shift, scale = standardization(media, "summary", summary_dim=2)  # the trailing two: the image summary
    torch.testing.assert_close(shift, torch.tensor([0.0, 0.0, 5.0, 2.0]))
    torch.testing.assert_close(scale, torch.tensor([1.0, 1.0, 1.0, 2.0]))
    for which, summary_dim in (("none", 2), ("summary", 0)):  # nothing to standardize
        shift, scale = standardization(media, which, summary_dim)
        assert torch.equal(shift, torch.zeros(4)) and torch.equal(scale, torch.ones(4))
    with pytest.raises(ValueError, match="standardize is 'grid', not one of none, summary, all"):
        FinalShortcutFitConfig(standardize="grid")
    with pytest.raises(ValueError, match="tokens is 'grid', not one of mean, side-by-side"):
        FinalShortcutFitConfig(tokens="grid")


def test_a_map_fitted_on_standardized_features_reads_the_raw_ones(make_multimodal_embedder, tmp_path):
    """The fit standardizes, fits, then folds the standardization into the map: the saved map is the one fitted on
    standardized features, reading the tower's features as they come."""
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    media, kept = pooled_pairs(embedder, shape_rows(tmp_path / "fit"), "image", tmp_path / "cache")
    captions = [r["text"] for r in kept]
    texts = torch.nn.functional.normalize(torch.randn(len(kept), embedder.dimension), dim=-1)
    config = FinalShortcutFitConfig(steps=5, batch_size=16, hidden_dim=32)
    shift, scale = standardization(media, "all", 0)
    assert not torch.equal(scale, torch.ones_like(scale))
    fitted = fit_map(embedder, "image", media, texts, captions, dataclasses.replace(config, standardize="all"))
    by_hand = fit_map(embedder, "image", (media - shift) / scale, texts, captions, config)
    with torch.no_grad():
        torch.testing.assert_close(fitted(media), by_hand((media - shift) / scale), atol=1e-5, rtol=1e-5)
    plain = fit_map(embedder, "image", media, texts, captions, config).state_dict()
    no_summary = fit_map(embedder, "image", media, texts, captions, dataclasses.replace(config, standardize="summary"))
    assert all(torch.equal(plain[name], value) for name, value in no_summary.state_dict().items())  # no summary here


def test_the_caption_vectors_are_the_final_query_vectors_and_are_cached(make_multimodal_embedder, tmp_path):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    captions = ["A red square.", "A blue circle.", "A red square."]
    vectors = final_queries(embedder, captions, tmp_path)
    assert sorted(vectors) == ["A blue circle.", "A red square."]
    alone = embedder.encode("A blue circle.", 64, "query")  # another batch shape: equal to float32 rounding
    np.testing.assert_allclose(vectors["A blue circle."].numpy(), alone, atol=1e-5, rtol=0)
    assert len(list(tmp_path.glob("final-queries-*.safetensors"))) == 1
    embedder.encode = None  # a second call reads the file: no model call
    assert torch.equal(final_queries(embedder, captions, tmp_path)["A red square."], vectors["A red square."])


def test_the_fit_sets_the_weight_chosen_on_selection_rows_and_keeps_texts(make_multimodal_embedder, tmp_path):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    rows, held = shape_rows(tmp_path / "fit"), held_shapes(tmp_path / "held")
    texts = sorted({r["text"] for r in rows})
    before = embedder.encode(texts, instruction="query")
    config = FinalShortcutFitConfig(steps=20, batch_size=16, hidden_dim=32, check_fraction=0.3, weights=WEIGHTS)
    embedder.calibration = "a calibration of the space before the map"
    fit = fit_final_shortcut(embedder, rows, held[::2], tmp_path / "cache", config, source="shapes")
    assert embedder.calibration is None
    check = [r for r in rows if is_check(r["text"], 0.3, seed=0)]
    assert 0 < len(check) < len(rows) and fit.pairs == {"image": len(rows) - len(check)} and fit.left_out == []
    assert set(fit.sweeps["image"]) == set(WEIGHTS)
    assert all(set(scores) == {"held-shapes", "shapes (check)"} for scores in fit.sweeps["image"].values())
    for weight, scores in fit.sweeps["image"].items():  # the two sets count equally: here one source each
        assert fit.score("image", weight) == pytest.approx((scores["held-shapes"] + scores["shapes (check)"]) / 2)
    best = max(WEIGHTS, key=lambda w: (round(fit.score("image", w), 6), -w))
    assert fit.weights == {"image": best}
    assert embedder.final_shortcut.config == FinalShortcutConfig(
        {"image": best}, hidden_dim=32, sources={"image": "shapes"}, storage="float16"
    )
    np.testing.assert_array_equal(embedder.encode(texts, instruction="query"), before)  # bit for bit


def test_no_caption_gets_more_fit_pairs_than_the_cap():
    captions = ["a digit"] * 6 + ["an icon"] + ["a digit"] * 4 + ["a flag"] * 2
    kept = capped_per_caption(captions, 3, seed=0)
    assert kept == sorted(kept) and kept == capped_per_caption(captions, 3, seed=0)  # in order, and seeded
    assert [captions[i] for i in kept].count("a digit") == 3 and {6, 11, 12} <= set(kept)  # the others all kept
    assert len(kept) == 6 and capped_per_caption(captions, 3, seed=1) != kept  # another seed, another sample
    assert capped_per_caption(captions, None, seed=0) == list(range(len(captions)))
    with pytest.raises(ValueError, match="per_caption is 0: a caption needs at least one pair"):
        FinalShortcutFitConfig(per_caption=0)


def test_a_capped_fit_fits_that_many_pairs_of_a_crowded_caption(make_multimodal_embedder, tmp_path):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    crowded = "A round thing."  # every circle's caption: 24 drawings of one class
    assert not is_check(crowded, 0.3, seed=0)
    rows = [{**r, "text": crowded} if "circle" in r["image"] else r for r in shape_rows(tmp_path / "fit")]
    squares = [r for r in rows if r["text"] != crowded and not is_check(r["text"], 0.3, seed=0)]
    config = FinalShortcutFitConfig(steps=5, batch_size=16, hidden_dim=32, check_fraction=0.3, weights=WEIGHTS)
    held = held_shapes(tmp_path / "held")[::2]
    fit = fit_final_shortcut(embedder, rows, held, tmp_path / "cache", config)
    assert fit.pairs == {"image": len(squares) + 24}
    capped = fit_final_shortcut(embedder, rows, held, tmp_path / "cache", dataclasses.replace(config, per_caption=4))
    assert capped.pairs == {"image": len(squares) + 4}


def test_a_fit_of_one_kind_keeps_the_models_map_of_the_other(make_multimodal_embedder, tmp_path):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    images, held_images = shape_rows(tmp_path / "fit"), held_shapes(tmp_path / "held")
    config = FinalShortcutFitConfig(steps=10, batch_size=16, hidden_dim=32, check_fraction=0.3, weights=WEIGHTS)
    cache = tmp_path / "cache"
    fit_final_shortcut(embedder, images, held_images[::2], cache, config, source="shapes")
    image_map = embedder.final_shortcut.shortcuts["image"]
    items = [Path(r["image"]) for r in held_images[:6]]
    with embedder.overrides(final_weights={"image": 0.5}):  # a weight that blends the map in, whatever was chosen
        image_vectors = embedder.encode(items, instruction="document")
    image_weight = embedder.final_shortcut.config.weights["image"]

    tones = tone_rows(tmp_path / "tones", count=20)  # 200-4,000 Hz
    said_again = tone_rows(tmp_path / "again", source="bells", count=4)  # the fit data's captions: memory, not reach
    with pytest.raises(ValueError, match="every audio selection row has a caption the fit data has"):
        fit_final_shortcut(embedder, tones, said_again, cache, config)
    held_tones = tone_rows(tmp_path / "held-tones", source="bells", count=8, lowest=4_200) + said_again
    # the fit data holds images too: no selection rows of them, so their map is not refitted
    fit = fit_final_shortcut(embedder, images + tones, held_tones, cache, config, source="tones")
    assert fit.left_out == ["image"] and list(fit.weights) == ["audio"] and fit.dropped == {"audio": 4}
    assert all(set(scores) == {"bells", "tones (check)"} for scores in fit.sweeps["audio"].values())
    final = embedder.final_shortcut
    assert final.shortcuts["image"] is image_map and set(final.shortcuts) == {"image", "audio"}
    assert final.config.weights == {"image": image_weight, "audio": fit.weights["audio"]}
    assert final.config.sources == {"image": "shapes", "audio": "tones"}
    with embedder.overrides(final_weights={"image": 0.5}):
        np.testing.assert_array_equal(embedder.encode(items, instruction="document"), image_vectors)
    folder = embedder.save_pretrained(tmp_path / "both")
    assert mmembed.load(str(folder), device="cpu").final_shortcut.config == final.config

    linear = FinalShortcutFitConfig(steps=2, batch_size=16, hidden_dim=None, weights=WEIGHTS)
    with pytest.raises(ValueError, match="final image map has hidden layer 32, this fit None"):
        fit_final_shortcut(embedder, tones, held_tones[:8], cache, linear)


def test_a_final_image_map_reads_the_image_summary_the_tower_is_given(make_multimodal_embedder, tmp_path):
    """``set_image_summary`` widens the image features (grid, then summary); the projector and tower shortcuts read
    the grid as before, so every vector stays; a final map fitted after it reads the summary too, and the model
    saves and loads with it."""
    torch.manual_seed(0)
    embedder = make_multimodal_embedder(image_tower={"kind": "efficientnet_lite0", "num_tokens": 4})
    embedder.modalities.add_shortcut("image", seed=3)
    embedder.config.shortcut_weights = {"image": 0.4}
    rows, held = shape_rows(tmp_path / "fit"), held_shapes(tmp_path / "held")
    items = [Path(r["image"]) for r in held[:4]]
    cache = tmp_path / "cache"
    before, (grid, _) = embedder.encode(items), pooled_pairs(embedder, rows, "image", cache)
    text_space, space = text_space_id(embedder), space_id(embedder)
    embedder.set_image_summary([10, 15])
    assert text_space_id(embedder) == text_space and space_id(embedder) != space  # texts never see a tower
    np.testing.assert_allclose(embedder.encode(items), before, atol=1e-5, rtol=0)  # the grid features, as before
    wide, _ = pooled_pairs(embedder, rows, "image", cache)  # the same cache, other keys: computed again
    assert grid.shape[1] == 1280 and wide.shape[1] == 1280 + 2 * (112 + 320)
    torch.testing.assert_close(wide[:, :1280], grid, atol=1e-5, rtol=0)
    config = FinalShortcutFitConfig(steps=10, batch_size=16, hidden_dim=16, check_fraction=0.3, weights=WEIGHTS)
    fit_final_shortcut(embedder, rows, held[::2], cache, config, source="shapes")
    assert embedder.final_shortcut.shortcuts["image"].in_dim == wide.shape[1]
    with pytest.raises(ValueError, match="reading 999 features does not fit this model's image tower: it gives 1280"):
        embedder.modalities.new_shortcut("image", in_dim=999)
    with embedder.overrides(final_weights={"image": 0.5}):
        vectors = embedder.encode(items)
    with pytest.raises(ValueError, match="final image map reads another image summary"):
        embedder.set_image_summary([14])
    with pytest.raises(ValueError, match="final image map reads another image summary"):
        embedder.set_image_summary([])
    folder = embedder.save_pretrained(tmp_path / "summarised")
    loaded = mmembed.load(str(folder), device="cpu")
    assert loaded.modalities.tower_configs["image"].summary_blocks == (10, 15)
    assert loaded.final_shortcut.shortcuts["image"].in_dim == wide.shape[1]
    with loaded.overrides(final_weights={"image": 0.5}):
        np.testing.assert_allclose(loaded.encode(items), vectors, atol=1e-5, rtol=0)  # rounded to float16 when set
    with pytest.raises(ValueError, match="summary_blocks must be distinct block indices 0-15"):
        loaded.set_image_summary([16])
    assert loaded.modalities.tower_configs["image"].summary_blocks == (10, 15)  # refused: nothing changed


def test_a_final_image_map_can_read_the_soft_tokens_side_by_side(make_multimodal_embedder, tmp_path):
    """``tokens="side-by-side"``: the map reads the 2 x 2 soft tokens' grid features one after another (where things
    are in the image), then the image summary once; the model saves and loads it reading them so."""
    torch.manual_seed(0)
    embedder = make_multimodal_embedder(image_tower={"kind": "efficientnet_lite0", "num_tokens": 4})
    embedder.set_image_summary([15])
    rows, held, cache = shape_rows(tmp_path / "fit"), held_shapes(tmp_path / "held"), tmp_path / "cache"
    pooled, _ = pooled_pairs(embedder, rows, "image", cache)
    laid_out, _ = pooled_pairs(embedder, rows, "image", cache, tokens="side-by-side")
    assert pooled.shape[1] == 1280 + 2 * 320 and laid_out.shape[1] == 4 * 1280 + 2 * 320
    grid = laid_out[:, : 4 * 1280].reshape(-1, 4, 1280)
    torch.testing.assert_close(grid.mean(dim=1), pooled[:, :1280], atol=1e-5, rtol=0)
    torch.testing.assert_close(laid_out[:, 4 * 1280 :], pooled[:, 1280:])  # the summary, once
    config = FinalShortcutFitConfig(
        steps=10, batch_size=16, hidden_dim=16, check_fraction=0.3, weights=WEIGHTS, tokens="side-by-side"
    )
    fit_final_shortcut(embedder, rows, held[::2], cache, config, source="shapes")
    image_map = embedder.final_shortcut.shortcuts["image"]
    assert (image_map.in_dim, image_map.tokens) == (laid_out.shape[1], 4)
    items = [Path(r["image"]) for r in held[:4]]
    with embedder.overrides(final_weights={"image": 1.0}):  # the map alone: it reads what it was fitted on
        mapped = torch.nn.functional.normalize(
            image_map(pooled_pairs(embedder, held[:4], "image", cache, tokens="side-by-side")[0]), dim=-1
        )
        np.testing.assert_allclose(embedder.encode(items), mapped.detach().numpy(), atol=1e-5, rtol=0)
    with embedder.overrides(final_weights={"image": 0.5}):
        vectors = embedder.encode(items)
    loaded = mmembed.load(str(embedder.save_pretrained(tmp_path / "laid-out")), device="cpu")
    assert (loaded.final_shortcut.shortcuts["image"].in_dim, loaded.final_shortcut.shortcuts["image"].tokens) == (
        laid_out.shape[1],
        4,
    )
    with loaded.overrides(final_weights={"image": 0.5}):
        np.testing.assert_allclose(loaded.encode(items), vectors, atol=1e-5, rtol=0)


def test_a_config_written_with_one_source_reads_it_for_every_kind(tmp_path):
    path = tmp_path / "final_shortcut.json"
    path.write_text('{"hidden_dim": 8, "source": "a b", "weights": {"audio": 0.2, "image": 0.5}}')
    assert FinalShortcutConfig.read(path) == FinalShortcutConfig(
        {"audio": 0.2, "image": 0.5}, 8, {"audio": "a b", "image": "a b"}
    )


def test_the_fit_refuses_what_it_cannot_choose_a_weight_on(make_multimodal_embedder, tmp_path):
    embedder = make_multimodal_embedder()
    rows = shape_rows(tmp_path / "fit")
    with pytest.raises(ValueError, match="selection source shapes is also in the fit data"):
        fit_final_shortcut(embedder, rows, rows[:4], tmp_path / "cache")
    with pytest.raises(ValueError, match="the selection data holds no image rows"):
        fit_final_shortcut(embedder, rows, [{"text": "words only", "source": "other"}], tmp_path / "cache")
    (tmp_path / "broken.png").write_bytes(b"not an image")
    broken = [{"image": str(tmp_path / "broken.png"), "text": "broken", "source": "broken"}]
    with pytest.raises(ValueError, match="none of the 1 image rows decodes"):
        fit_final_shortcut(embedder, broken, rows, tmp_path / "cache")
    with pytest.raises(ValueError, match="no media rows with captions"):
        fit_final_shortcut(embedder, [{"text": "words only"}], rows, tmp_path / "cache")


def test_the_command_saves_a_model_with_a_final_shortcut(make_multimodal_embedder, tmp_path, capsys):
    torch.manual_seed(0)
    make_multimodal_embedder().save_pretrained(tmp_path / "start")
    data = write_manifest(tmp_path / "shapes.jsonl", shape_rows(tmp_path / "fit"))
    select = write_manifest(tmp_path / "held.jsonl", held_shapes(tmp_path / "held"))
    common = ["--model", str(tmp_path / "start"), "--feature-cache", str(tmp_path / "cache"), "--device", "cpu"]
    refused = ["fit-shortcut", "--final", "--data", str(data), "--out", str(tmp_path / "x"), *common]
    assert main([*refused, "--select-data", str(select), "--head"]) == 2
    assert "--final fits only the final shortcut: drop --head" in capsys.readouterr().err
    assert main(refused) == 2
    assert "--final needs --data" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    with pytest.raises(SystemExit):  # argparse refuses it by name
        main([*refused, "--select-data", str(select), "--final-hidden", "-1"])
    assert "--final-hidden" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*refused, "--select-data", str(select), "--final-members", "0"])
    assert "--final-members" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*refused, "--select-data", str(select), "--final-standardize", "grid"])
    assert "--final-standardize: invalid choice: 'grid'" in capsys.readouterr().err
    summary = ["--select-data", str(select), "--image-summary-blocks", "10", "15"]
    assert main([arg for arg in refused if arg != "--final"] + summary) == 2
    assert "--image-summary-blocks is read by the final image map only: add --final" in capsys.readouterr().err
    assert main([*refused, *summary]) == 2  # this model's image tower is open_clip's
    assert "summary_blocks name EfficientNet-Lite0 blocks: an open_clip tower has none" in capsys.readouterr().err
    # a map fitted on standardized features is saved reading them raw: no other state to save
    code = main(
        ["fit-shortcut", "--final", "--data", str(data), "--select-data", str(select), "--steps", "10",
         "--final-hidden", "16", "--final-standardize", "all", "--final-tokens", "side-by-side",
         "--final-members", "2", "--out", str(tmp_path / "out"), *common]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "| final weight | held-shapes | shapes (check) | score |" in printed
    loaded = mmembed.load(str(tmp_path / "out"), device="cpu")
    assert loaded.final_shortcut.config.sources == {"image": "shapes"} and loaded.final_shortcut.config.hidden_dim == 16
    assert loaded.final_shortcut.config.storage == "float16"  # the default: half the file
    assert not loaded.final_shortcut.training
    assert loaded.final_shortcut.config.weights["image"] in FinalShortcutFitConfig().weights
    assert loaded.modalities.shortcuts.keys() == set()  # the model is kept as it was
    assert loaded.final_shortcut.shortcuts["image"].tokens == loaded.modalities.tower_configs["image"].num_tokens > 1
    assert len(loaded.final_shortcut.shortcuts["image"].members) == 2  # an ensemble loads as one
