"""The LiT peer on the real packaged towers and MiniLM (integration)."""

from pathlib import Path

import numpy as np
import pytest
from media_files import circle, square, write_audio

from mmembed.data.manifest import read_manifest, write_manifest
from mmembed.evaluation.peers import LiTPeer

pytestmark = pytest.mark.integration


def test_lit_heads_learn_the_training_pairs(tmp_path):
    rows = []
    for i, (shape, colour) in enumerate([(square, "red"), (circle, "blue"), (square, "green"), (circle, "yellow")]):
        shape(colour, size=224).save(tmp_path / f"{i}.png")
        rows.append({"image": f"{i}.png", "text": f"a {colour} {shape.__name__}", "split": "train"})
    write_audio(tmp_path / "beep.wav", seconds=1.0, hz=880)
    rows.append({"audio": "beep.wav", "text": "a high beep", "split": "train"})
    rows = read_manifest(write_manifest(tmp_path / "m.jsonl", rows))
    peer = LiTPeer(steps=150).fit(rows)
    items = peer.encode([Path(r.get("image") or r.get("audio")) for r in rows])
    texts = peer.encode([r["text"] for r in rows])
    assert items.shape == texts.shape == (5, 256) and np.isfinite(items).all()
    assert (np.argmax(items[:4] @ texts[:4].T, axis=1) == np.arange(4)).all()  # the heads fit their training pairs


def square_rows(tmp_path, colours) -> list[dict]:
    rows = []
    for i, colour in enumerate(colours):
        square(colour, size=224).save(tmp_path / f"{i}.png")
        rows.append({"image": f"{i}.png", "text": f"a {colour} square", "split": "train"})
    return read_manifest(write_manifest(tmp_path / "m.jsonl", rows))


def test_lit_heads_are_kept_and_read_back_for_the_same_training_pairs(tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    rows = square_rows(tmp_path, ["red", "blue"])
    cache = tmp_path / "cache"
    fitted = LiTPeer(steps=5).fit(rows, cache_dir=cache)
    [kept] = cache.glob("lit-heads-*.safetensors")
    state = load_file(str(kept))
    assert set(state) == {"image.weight", "image.bias", "text.weight", "text.bias"}
    torch.testing.assert_close(state["text.weight"], fitted.heads["text"].weight.detach(), atol=0, rtol=0)
    save_file({key: torch.full_like(value, 0.5) for key, value in state.items()}, str(kept))  # mark the kept file
    again = LiTPeer(steps=5).fit(rows, cache_dir=cache)
    assert torch.equal(again.heads["image"].weight.detach(), torch.full_like(state["image.weight"], 0.5))  # read
    rows[1]["text"] = "a navy square"  # another training pair: another fit, another file
    LiTPeer(steps=5).fit(rows, cache_dir=cache)
    assert len(list(cache.glob("lit-heads-*.safetensors"))) == 2


def test_a_refit_with_other_settings_reads_the_kept_training_pairs_and_fits_as_from_the_towers(tmp_path):
    import torch

    rows = square_rows(tmp_path, ["red", "blue", "green"])
    cache = tmp_path / "cache"
    LiTPeer(steps=5).fit(rows, cache_dir=cache)
    [pairs] = cache.glob("lit-pairs-*.safetensors")
    peer = LiTPeer(steps=7, batch_size=2)
    runs = []
    for tower in peer.towers.values():
        tower.register_forward_hook(lambda module, args, out: runs.append(module.__class__.__name__))
    peer.fit(rows, cache_dir=cache)
    assert runs == [] and len(list(cache.glob("lit-heads-*.safetensors"))) == 2  # new heads, no tower pass
    fresh = LiTPeer(steps=7, batch_size=2).fit(rows)  # no cache: the towers run
    for kind in ("image", "text"):  # the same computation on the same features: equal
        torch.testing.assert_close(peer.heads[kind].weight, fresh.heads[kind].weight, atol=1e-6, rtol=0)


def test_a_fit_on_one_more_source_runs_the_towers_on_its_new_items_only(tmp_path):
    import torch

    rows = square_rows(tmp_path, ["red", "blue", "green"])
    cache = tmp_path / "cache"
    LiTPeer(steps=5).fit(rows[:2], cache_dir=cache)  # the first source
    circle("yellow", size=224).save(tmp_path / "new.png")
    more = rows + [{**rows[0], "image": str(tmp_path / "new.png"), "text": "a yellow circle"}]
    peer = LiTPeer(steps=7, batch_size=2)
    runs = []
    for tower in peer.towers.values():
        tower.register_forward_hook(lambda module, args, out: runs.append(len(args[0])))
    peer.fit(more, cache_dir=cache)
    assert sum(runs) == 2  # the green square and the yellow circle; the red and blue ones were kept
    assert len(list(cache.glob("lit-items-*.safetensors"))) == 2
    fresh = LiTPeer(steps=7, batch_size=2).fit(more)  # no cache: every item through the towers
    for kind in ("image", "text"):  # kept features are the towers' own, up to the batch they were run in
        torch.testing.assert_close(peer.heads[kind].weight, fresh.heads[kind].weight, atol=1e-5, rtol=0)


def test_endless_batches_cover_every_row_once_per_epoch_and_the_full_batch_when_it_fits():
    import torch

    from mmembed.evaluation.lit_peer import endless_batches

    generator = torch.Generator().manual_seed(0)
    batches = endless_batches(10, 3, generator)
    epoch = [next(batches) for _ in range(3)]  # 3 batches of 3: one row left out of each epoch, at random
    seen = torch.cat(epoch)
    assert all(len(b) == 3 for b in epoch) and len(set(seen.tolist())) == 9 and set(seen.tolist()) <= set(range(10))
    second = torch.cat([next(batches) for _ in range(3)])
    assert not torch.equal(seen, second)  # a fresh order each epoch
    whole = endless_batches(4, 8, generator)
    assert torch.equal(next(whole), torch.arange(4)) and torch.equal(next(whole), torch.arange(4))


def test_mini_batched_heads_learn_the_training_pairs(tmp_path):
    colours = ["red", "blue", "green", "yellow", "purple", "orange"]
    rows = square_rows(tmp_path, colours)
    peer = LiTPeer(steps=300, batch_size=3).fit(rows)
    items = peer.encode([Path(r["image"]) for r in rows])
    texts = peer.encode([r["text"] for r in rows])
    assert (np.argmax(items @ texts.T, axis=1) == np.arange(len(colours))).all()


def test_lit_features_in_batches_equal_one_at_a_time(tmp_path):
    items = []
    for i, colour in enumerate(["red", "blue", "green"]):
        square(colour, size=200 + 20 * i).save(tmp_path / f"{i}.png")
        items.append(Path(tmp_path / f"{i}.png"))
    for i, seconds in enumerate([0.5, 1.5]):
        items.append(write_audio(tmp_path / f"{i}.wav", seconds=seconds, hz=440 * (i + 1)))
    items.append(tmp_path / "missing.png")
    peer = LiTPeer(steps=0)
    batched, kinds = peer.media_features(items, batch_size=8, progress=False)
    single = [peer.media_features([item], batch_size=1, progress=False)[0][0] for item in items]
    assert kinds == ["image"] * 3 + ["audio"] * 2 + ["?"] and batched[-1] is None and single[-1] is None
    for a, b in zip(batched[:-1], single[:-1]):
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=0)  # batch shapes change kernels: a tolerance


def test_lit_reads_back_the_tower_features_a_model_computed_in_the_same_evaluation(tmp_path, make_embedder):
    from encoders.feature_memo import remembered_features

    model = make_embedder(  # a tiny LLM on LiT's own towers (the packaged EfficientNet-Lite0 and Whisper tiny.en)
        image_tower={"kind": "efficientnet_lite0", "num_tokens": 4},
        audio_tower={"source": "packaged:tiny.en", "num_tokens": 8},
    )
    square("red", size=200).save(tmp_path / "red.png")
    items = [tmp_path / "red.png", write_audio(tmp_path / "tone.wav", seconds=1.0)]
    peer = LiTPeer(steps=0)
    alone, _ = peer.media_features(items, progress=False)
    runs = []
    for tower in peer.towers.values():
        tower.register_forward_hook(lambda module, args, out: runs.append(module.__class__.__name__))
    with remembered_features():
        model.encode(items)
        shared, kinds = peer.media_features(items, progress=False)
    assert runs == [] and kinds == ["image", "audio"]  # neither of LiT's towers ran: the model's features were read
    for a, b in zip(shared, alone):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)


def test_a_fit_without_a_decodable_training_item_is_refused_by_name(tmp_path):
    rows = [{"image": str(tmp_path / "missing.png"), "text": "a lost square", "split": "train"}]
    with pytest.raises(ValueError, match="none of the 1 training rows has an image or sound that decodes"):
        LiTPeer(steps=1).fit(rows)
