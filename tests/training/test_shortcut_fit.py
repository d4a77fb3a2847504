"""Fitting the tower shortcuts (training/shortcut.py, ``mmembed fit-shortcut``): a LiT-style head onto the model's
own caption vectors, early-stopped and weighted on held-out captions; the text side never moves."""

import numpy as np
import torch
from media_files import circle, square

import mmembed
from mmembed.cli import main
from mmembed.data import write_manifest
from training.features import media_features
from training.shortcut import ShortcutFitConfig, build_groups, fit_shortcuts, group_loss, is_check

COLOURS = ["red", "blue", "green", "yellow", "purple", "orange", "black", "pink"]


def shape_rows(folder, source="shapes"):
    rows = []
    for colour in COLOURS:
        for shape in (square, circle):
            for size, offset in (("small", 0), ("big", 6), ("shifted", 10)):
                image = shape(colour, offset=offset) if shape is square else shape(colour, size=64 + offset)
                path = folder / f"{shape.__name__}-{colour}-{size}.png"
                image.save(path)
                rows.append({"image": str(path), "text": f"A {size} {colour} {shape.__name__}.", "source": source})
    return rows


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
