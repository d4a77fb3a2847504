"""Fitting the tower shortcuts (training/shortcut.py, ``mmembed fit-shortcut``): a LiT-style head onto the model's
own caption vectors, early-stopped on held-out captions and weighted on them or on a source never trained on; the
text side never moves."""

import numpy as np
import pytest
import torch
from media_files import shape_rows

import mmembed
from mmembed.cli import main
from mmembed.data import write_manifest
from training.features import media_features
from training.shortcut import (
    ShortcutFitConfig,
    build_groups,
    fit_shortcuts,
    group_loss,
    is_check,
    selection_rows,
    sweep_shortcut_weights,
)


def test_the_check_split_is_by_caption():
    captions = [f"caption {i}" for i in range(400)]
    sides = [is_check(c, 0.25, seed=0) for c in captions]
    assert sides == [is_check(c, 0.25, seed=0) for c in captions]  # fixed by the text
    assert 0.15 < np.mean(sides) < 0.35
    assert sides != [is_check(c, 0.25, seed=1) for c in captions]


def test_the_fit_objective_learns_the_captions(make_multimodal_embedder, tmp_path):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    rows = shape_rows(tmp_path)
    features = media_features(embedder, rows, tmp_path / "cache")
    pooled = {i: f.mean(dim=0) for i, f in features.items()}
    groups = build_groups(embedder, rows, tmp_path / "cache", ShortcutFitConfig(check_fraction=0.3))
    shortcut = embedder.modalities.add_shortcut("image")
    optimizer = torch.optim.Adam(shortcut.parameters(), lr=3e-3)
    losses = []
    for _ in range(15):
        loss = group_loss(shortcut, torch.tensor(20.0), groups[0], pooled, rows)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0], losses


def test_fit_shortcuts_keeps_the_best_check_state_and_the_text_side(make_multimodal_embedder, tmp_path):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    rows = shape_rows(tmp_path)
    captions = sorted({row["text"] for row in rows})
    before = embedder.encode(captions, instruction="query")
    config = ShortcutFitConfig(steps=30, check_every=5, check_fraction=0.3, weights=(0.0, 0.5, 1.0))
    fit = fit_shortcuts(embedder, rows, tmp_path / "cache", config)
    assert fit.weights["image"] in config.weights
    assert embedder.config.shortcut_weights == {"image": fit.weights["image"]}
    assert set(fit.sweeps["image"]) == set(config.weights)
    assert all(set(scores) == {"shapes"} for scores in fit.sweeps["image"].values())
    curve = fit.check_curves["image"]
    assert [step for step, _ in curve] == [0, 5, 10, 15, 20, 25, 30]
    best = max(curve, key=lambda point: point[1])
    assert fit.best_steps["image"] == best[0]  # the kept state is the best one on the held-out captions
    np.testing.assert_array_equal(embedder.encode(captions, instruction="query"), before)  # bit for bit


def test_the_command_saves_a_model_that_blends(make_multimodal_embedder, tmp_path, capsys):
    torch.manual_seed(0)
    make_multimodal_embedder().save_pretrained(tmp_path / "start")
    manifest = write_manifest(tmp_path / "shapes.jsonl", shape_rows(tmp_path))
    code = main(
        ["fit-shortcut", "--model", str(tmp_path / "start"), "--data", str(manifest), "--steps", "10",
         "--feature-cache", str(tmp_path / "cache"), "--out", str(tmp_path / "out"), "--device", "cpu"]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "| shortcut weight | shapes | mean |" in printed
    loaded = mmembed.load(str(tmp_path / "out"), device="cpu")
    assert "image" in loaded.modalities.shortcuts
    assert loaded.config.shortcut_weights["image"] in ShortcutFitConfig().weights


def test_selection_rows_spread_over_each_source_up_to_the_limit(tmp_path):
    rows = [{"image": f"/x/{i}.png", "text": f"class {i // 10}", "source": "a"} for i in range(50)]
    rows += [{"image": f"/y/{i}.png", "text": f"class {i}", "source": "b"} for i in range(3)]
    rows += [{"text": "no media", "source": "a"}, {"image": "/x/none.png", "text": None, "source": "a"}]
    picked = selection_rows(rows, limit=10)
    assert [r["source"] for r in picked] == ["a"] * 10 + ["b"] * 3
    assert len({r["text"] for r in picked if r["source"] == "a"}) >= 3  # a spread, not the first class's rows
    assert picked == selection_rows(list(reversed(rows)), limit=10)  # fixed by the items, not the manifest order
    assert len(selection_rows(rows, limit=None)) == 53


def test_fit_shortcuts_sweeps_the_weight_on_a_source_never_fitted(make_multimodal_embedder, tmp_path):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    rows = shape_rows(tmp_path / "fit")
    held = shape_rows(tmp_path / "held", source="held-shapes")
    config = ShortcutFitConfig(steps=10, check_every=5, check_fraction=0.3, weights=(0.0, 0.5, 1.0))
    fit = fit_shortcuts(embedder, rows, tmp_path / "cache", config, select_rows=held)
    assert fit.swept_on == {"image": "selection rows"}
    assert all(set(scores) == {"held-shapes"} for scores in fit.sweeps["image"].values())
    assert embedder.config.shortcut_weights == {"image": fit.weights["image"]}
    with pytest.raises(ValueError, match="selection source shapes is also in the fit data"):
        fit_shortcuts(embedder, rows, tmp_path / "cache", config, select_rows=rows[:4])


def test_sweep_shortcut_weights_keeps_the_shortcut(make_multimodal_embedder, tmp_path):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    held = shape_rows(tmp_path / "held", source="held-shapes")
    config = ShortcutFitConfig(weights=(0.0, 0.5, 1.0))
    with pytest.raises(ValueError, match="no image shortcut: fit one first"):
        sweep_shortcut_weights(embedder, held, tmp_path / "cache", config)
    shortcut = embedder.modalities.add_shortcut("image")
    state = {k: v.clone() for k, v in shortcut.state_dict().items()}
    fit = sweep_shortcut_weights(embedder, held, tmp_path / "cache", config)
    assert fit.swept_on == {"image": "selection rows"} and fit.best_steps == {}
    scores = fit.sweeps["image"]
    best = max(config.weights, key=lambda w: (round(scores[w]["held-shapes"], 6), -w))
    assert fit.weights["image"] == best and embedder.config.shortcut_weights["image"] == best
    for key, value in embedder.modalities.shortcuts["image"].state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0)


def test_the_command_chooses_weights_again_on_selection_data(make_multimodal_embedder, tmp_path, capsys):
    torch.manual_seed(0)
    make_multimodal_embedder().save_pretrained(tmp_path / "start")
    fit_manifest = write_manifest(tmp_path / "shapes.jsonl", shape_rows(tmp_path / "fit"))
    held_manifest = write_manifest(tmp_path / "held.jsonl", shape_rows(tmp_path / "held", source="held-shapes"))
    common = ["--feature-cache", str(tmp_path / "cache"), "--device", "cpu"]
    fitted = ["fit-shortcut", "--model", str(tmp_path / "start"), "--data", str(fit_manifest), "--steps", "5"]
    assert main([*fitted, "--out", str(tmp_path / "fitted"), *common]) == 0
    capsys.readouterr()
    kept = ["fit-shortcut", "--model", str(tmp_path / "fitted"), "--keep-shortcuts", "--out", str(tmp_path / "out")]
    assert main([*kept, *common]) == 2
    assert "--keep-shortcuts chooses the weights again on --select-data" in capsys.readouterr().err
    code = main([*kept, "--select-data", str(held_manifest), "--select-limit", "12", *common])
    assert code == 0
    printed = capsys.readouterr().out
    assert "image: mean mAP of both directions on selection rows" in printed
    assert "| shortcut weight | held-shapes | mean |" in printed
    before = mmembed.load(str(tmp_path / "fitted"), device="cpu").modalities.shortcuts["image"].state_dict()
    after = mmembed.load(str(tmp_path / "out"), device="cpu").modalities.shortcuts["image"].state_dict()
    for key, value in after.items():
        torch.testing.assert_close(value, before[key], rtol=0, atol=0)


def test_fit_shortcuts_with_a_head_moves_the_text_side_and_keeps_its_best_state(make_multimodal_embedder, tmp_path):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    rows = shape_rows(tmp_path)
    captions = sorted({row["text"] for row in rows})
    before = embedder.encode(captions, instruction="query", normalize=False)
    config = ShortcutFitConfig(
        steps=30, check_every=5, check_fraction=0.3, weights=(0.0, 0.5, 1.0), head=True, learning_rate=3e-3
    )
    fit = fit_shortcuts(embedder, rows, tmp_path / "cache", config)
    head = embedder.head
    assert head is not None and head.shape == (embedder.dimension, embedder.dimension)
    best = max(fit.check_curves["image"], key=lambda point: point[1])
    assert fit.best_steps["image"] == best[0]
    if best[0] > 0:  # the kept state is a trained one, not the identity
        assert (head - torch.eye(embedder.dimension)).abs().max() > 0
    after = embedder.encode(captions, instruction="query")
    expected = torch.nn.functional.normalize(torch.from_numpy(before) @ head.cpu().T, dim=-1).numpy()
    np.testing.assert_allclose(after, expected, atol=1e-5, rtol=0)
    refit = fit_shortcuts(embedder, rows, tmp_path / "cache", config)  # a refit starts from the plain space
    assert refit.best_steps == fit.best_steps
    torch.testing.assert_close(embedder.head, head, atol=1e-5, rtol=0)


def test_the_command_fits_a_head_and_refuses_to_keep_shortcuts_with_it(make_multimodal_embedder, tmp_path, capsys):
    torch.manual_seed(0)
    make_multimodal_embedder().save_pretrained(tmp_path / "start")
    manifest = write_manifest(tmp_path / "shapes.jsonl", shape_rows(tmp_path))
    common = ["--feature-cache", str(tmp_path / "cache"), "--device", "cpu", "--out", str(tmp_path / "out")]
    fitted = ["fit-shortcut", "--model", str(tmp_path / "start"), "--data", str(manifest), "--steps", "10", "--head"]
    assert main([*fitted, "--keep-shortcuts", "--select-data", str(manifest), *common]) == 2
    assert "--head fits the output head with the shortcuts: it cannot keep them" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        main([*fitted, "--preserve-weight", "-1", *common])
    assert refused.value.code == 2
    assert "-1 is not a number >= 0" in capsys.readouterr().err
    assert main([*fitted, *common]) == 0
    assert "output head fitted with the shortcuts" in capsys.readouterr().out
    loaded = mmembed.load(str(tmp_path / "out"), device="cpu")
    assert loaded.head is not None and "image" in loaded.modalities.shortcuts


def test_a_model_with_a_view_is_refused(make_multimodal_embedder, tmp_path):
    from mmembed.view import add_view

    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    embedder.modalities.add_shortcut("image")
    add_view(embedder, embedder, 0.5)  # its own head (none) and shortcut as the view: the same LLM path
    rows = shape_rows(tmp_path / "fit")
    with pytest.raises(ValueError, match="this model has a view"):
        fit_shortcuts(embedder, rows, tmp_path / "cache", ShortcutFitConfig(steps=2))
    with pytest.raises(ValueError, match="this model has a view"):
        sweep_shortcut_weights(embedder, rows, tmp_path / "cache")
