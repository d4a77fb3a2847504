"""Training on tiny random models: a step lowers the loss on a fixed batch; resume gives the same next loss."""

import json

import numpy as np
import pytest
import torch
from fixed_batch import fixed_batch_losses
from media_files import circle, square, write_audio

from mmembed.data import read_manifest, write_manifest
from training.batches import make_batch
from training.config import LoraSettings, TrainConfig
from training.objectives import build_objectives
from training.sampling import batch_indices
from training.trainer import build_examples, prepare_model, train


@pytest.fixture
def manifest(tmp_path):
    media = tmp_path / "data"
    media.mkdir()
    rows = []
    for i, (shape, colour) in enumerate([(square, "red"), (circle, "blue"), (square, "green"), (circle, "yellow")] * 2):
        shape(colour).save(media / f"img{i}.png")
        rows.append({"image": f"img{i}.png", "text": f"A {colour} {shape.__name__} number {i}.", "split": "train"})
    write_audio(media / "beep.wav", seconds=0.3)
    rows.append({"audio": "beep.wav", "text": "A short beep.", "split": "train"})
    rows.append({"text": "what is red?", "positive": "Red is a colour.", "split": "train"})
    rows.append({"image": "img0.png", "text": "held out", "split": "test"})
    return write_manifest(media / "toy.jsonl", rows)


@pytest.fixture
def config(tmp_path, tiny_backbone, tiny_open_clip, tiny_whisper, manifest):
    return TrainConfig(
        model=str(tiny_backbone),
        manifests=[str(manifest)],
        output_dir=str(tmp_path / "run"),
        steps=4,
        batch_size=4,
        warmup_steps=1,
        checkpoint_every=2,
        log_every=1,
        device="cpu",
        learning_rate=1e-3,
        lora=LoraSettings(r=4, alpha=8, target_modules=["q_proj", "v_proj"]),
        model_overrides={
            "max_length": 64,
            "image_tower": {"kind": "open_clip", "model_name": tiny_open_clip},
            "audio_tower": {"source": str(tiny_whisper)},
        },
    )


def test_manifest_round_trip_and_splits(manifest):
    assert len(read_manifest(manifest)) == 11 and len(read_manifest(manifest, "test")) == 1
    assert read_manifest(manifest)[0]["image"] == str(manifest.parent / "img0.png")


def infonce_on_a_fixed_batch(config) -> tuple[list[float], dict]:
    """Five InfoNCE steps on one batch of the config's train rows: (losses, last metrics)."""
    torch.manual_seed(0)
    embedder = prepare_model(config)
    examples = build_examples(embedder, read_manifest(config.manifests[0], "train"), config_path(config) / "cache")
    batch = make_batch(examples, list(range(len(examples))))
    objective = build_objectives({"infonce": {}})["infonce"]
    params = [p for p in embedder.model.parameters() if p.requires_grad] + list(
        embedder.modalities.projectors.parameters()
    )
    return fixed_batch_losses(objective, embedder, batch, params + list(objective.parameters()), 5, 1e-3)


def test_infonce_step_lowers_the_loss_on_a_fixed_batch(config):
    losses, metrics = infonce_on_a_fixed_batch(config)
    assert losses[-1] < losses[0] and 0 <= metrics["in_batch_accuracy"] <= 1


def config_path(config):
    from pathlib import Path

    return Path(config.output_dir)


def test_resume_reproduces_the_next_loss(config, tmp_path):
    full = train(config, progress=False)
    assert (full / "adapter").is_dir() and (full / "projectors.safetensors").is_file()
    straight = [json.loads(line) for line in open(tmp_path / "run" / "metrics.jsonl")]

    config.output_dir = str(tmp_path / "resumed")
    train(config, progress=False, stop_after=2)  # as if killed after the step-2 checkpoint
    train(config, progress=False)
    resumed = [json.loads(line) for line in open(tmp_path / "resumed" / "metrics.jsonl")]
    assert [r["step"] for r in resumed] == [0, 1, 2, 3]
    np.testing.assert_allclose([r["loss"] for r in resumed], [r["loss"] for r in straight], rtol=1e-5)
    assert (tmp_path / "resumed" / "curves.png").is_file()


def test_trained_folder_loads_and_embeds(config):
    import mmembed

    folder = train(config, progress=False)
    loaded = mmembed.load(str(folder), device="cpu")
    assert hasattr(loaded.model, "peft_config") and loaded.encode([square("red"), "text"]).shape == (2, 32)


def test_a_gemma3_backbone_trains_with_bidirectional_attention_and_reloads(config, tiny_gemma3_backbone):
    """Gemma-3 (sliding-window and global layers, the multilingual candidate backbone) trains like the default's."""
    import dataclasses

    import mmembed

    config = dataclasses.replace(
        config,
        model=str(tiny_gemma3_backbone),
        model_overrides={**config.model_overrides, "attention": "bidirectional"},
    )
    losses, _ = infonce_on_a_fixed_batch(config)
    assert losses[-1] < losses[0]
    loaded = mmembed.load(str(train(config, progress=False)), device="cpu")
    assert loaded.config.attention == "bidirectional" and loaded.encode([square("red"), "text"]).shape == (2, 32)


def test_the_train_command_takes_another_backbone_for_the_same_recipe(config, tiny_gemma3_backbone, tmp_path):
    import yaml

    import mmembed
    from mmembed.cli import main

    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(config.to_dict()))
    out = tmp_path / "gemma3-arm"
    arm = ["--model", str(tiny_gemma3_backbone), "--steps", "1", "--output-dir", str(out)]
    assert main(["train", str(path), *arm]) == 0
    trained = mmembed.load(str(out / "model"), device="cpu")
    assert trained.config.backbone == str(tiny_gemma3_backbone) and trained.decoder.config.model_type == "gemma3_text"


def test_every_shipped_recipe_reads():
    from pathlib import Path

    recipes = sorted((Path(__file__).parents[2] / "training" / "configs").rglob("*.yaml"))
    assert len(recipes) > 20
    for recipe in recipes:
        TrainConfig.from_yaml(recipe)  # unknown keys, bad batching or LoRA settings raise


def test_batches_are_deterministic_per_step():
    assert batch_indices(10, 4, seed=0, step=3) == batch_indices(10, 4, seed=0, step=3)
    first_epoch = batch_indices(10, 4, 0, 0) + batch_indices(10, 4, 0, 1)
    assert len(set(first_epoch)) == 8


def test_unknown_objective_and_keys_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown objectives"):
        build_objectives({"magic": {}})
    (tmp_path / "c.yaml").write_text("stepz: 3\n")
    with pytest.raises(ValueError, match="unknown keys"):
        TrainConfig.from_yaml(tmp_path / "c.yaml")


def test_a_second_stage_trains_the_saved_adapter_on(config, tmp_path):
    """LLM2Vec / UniMAE recipes are stages: a later config names the earlier model folder and its adapter trains on."""
    from safetensors.torch import load_file

    config.steps, config.objectives = 2, {"simcse": {}}
    first = train(config, progress=False)
    config.model, config.output_dir, config.objectives = str(first), str(tmp_path / "stage2"), {"infonce": {}}
    config.model_overrides = {}  # the saved folder carries its own config
    second = train(config, progress=False)
    before = load_file(str(first / "adapter" / "adapter_model.safetensors"))
    after = load_file(str(second / "adapter" / "adapter_model.safetensors"))
    assert before.keys() == after.keys()
    assert any(not torch.equal(before[k], after[k]) for k in before), "the stage-2 run left the adapter untouched"


def test_rows_per_manifest_are_a_seeded_sample(config):
    from training.trainer import sample_rows

    rows = [{"text": f"q{i}", "positive": f"p{i}"} for i in range(50)]
    config.max_rows_per_manifest = 10
    first, again = sample_rows(rows, config), sample_rows(rows, config)
    assert len(first) == 10 and first == again and len({r["text"] for r in first}) == 10
    config.max_rows_per_manifest = None
    assert sample_rows(rows, config) == rows


def test_yaml_paths_are_relative_to_the_config_file(tmp_path):
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / "stage2.yaml").write_text(
        "model: ../runs/stage1/model\nmanifests: [../data/x.jsonl]\nfeature_cache: ../cache\n"
    )
    config = TrainConfig.from_yaml(folder / "stage2.yaml")
    assert config.model == str(folder / "../runs/stage1/model") and config.feature_cache == str(folder / "../cache")
    (folder / "bad.yaml").write_text("stepz: 3\n")
    with pytest.raises(ValueError, match="stepz"):
        TrainConfig.from_yaml(folder / "bad.yaml")


def test_by_source_batches_hold_one_source_each_with_the_configured_shares():
    from training.sampling import BatchPlan

    sources = ["a"] * 30 + ["b"] * 10 + ["c"] * 60
    plan = BatchPlan(sources, batch_size=8, seed=0, steps=400, mode="by_source", weights={"a": 2, "b": 1, "c": 1})
    drawn = [plan.source(step) for step in range(400)]
    assert abs(drawn.count("a") / 400 - 0.5) < 0.08 and abs(drawn.count("b") / 400 - 0.25) < 0.08
    for step in range(50):
        batch = plan.indices(step)
        assert len(batch) == 8 and {sources[i] for i in batch} == {plan.source(step)}
    again = BatchPlan(sources, batch_size=8, seed=0, steps=400, mode="by_source", weights={"a": 2, "b": 1, "c": 1})
    assert [again.indices(s) for s in range(60)] == [plan.indices(s) for s in range(60)]  # resume sees the same batches
    a_steps = [s for s in range(400) if drawn[s] == "a"][
        :3
    ]  # one epoch of "a" (3 batches of 8 from 30) repeats nothing
    assert len({i for s in a_steps for i in plan.indices(s)}) == 24
    assert BatchPlan(sources, 8, 0, 10).indices(3) == batch_indices(100, 8, 0, 3)  # "mixed" is the old plan
    with pytest.raises(ValueError, match="missing \\['c'\\]"):
        BatchPlan(sources, 8, 0, 10, "by_source", {"a": 1, "b": 1})
    with pytest.raises(ValueError, match="batching"):
        BatchPlan(sources, 8, 0, 10, "by_modality")


def test_by_source_training_logs_the_source_and_resumes_identically(config, tmp_path):
    config.batching, config.steps = "by_source", 4
    train(config, progress=False)
    straight = [json.loads(line) for line in open(tmp_path / "run" / "metrics.jsonl")]
    assert {r["source"] for r in straight} <= {"toy"} and all("source" in r for r in straight)
    config.output_dir = str(tmp_path / "resumed")
    train(config, progress=False, stop_after=2)
    train(config, progress=False)
    resumed = [json.loads(line) for line in open(tmp_path / "resumed" / "metrics.jsonl")]
    np.testing.assert_allclose([r["loss"] for r in resumed], [r["loss"] for r in straight], rtol=1e-5)
    config.output_dir, config.source_weights = str(tmp_path / "bad"), {"toy": 1.0, "tuxpaint": 2.0}
    with pytest.raises(ValueError, match="unknown \\['tuxpaint'\\]"):
        train(config, progress=False)
    assert not (tmp_path / "bad" / "feature_cache").exists()  # refused before any tower ran
    with pytest.raises(ValueError, match="batching"):
        TrainConfig(batching="by_modality")


def test_feature_cache_is_per_item_across_runs(config, tmp_path):
    from safetensors.torch import load_file

    from training.features import media_features

    embedder = prepare_model(config)
    rows = [r for r in read_manifest(config.manifests[0], "train") if "image" in r]
    cache = tmp_path / "cache"
    first = media_features(embedder, rows[:5], cache)
    both = media_features(embedder, rows, cache)  # a later run with three more images computes those three only
    files = sorted(cache.glob("image-*.safetensors"))
    assert len(files) == 2 and sorted(len(load_file(str(f))) for f in files) == [3, 5]
    assert all(torch.equal(first[i], both[i]) for i in range(5)) and len(both) == 8
    assert media_features(embedder, rows, cache).keys() == both.keys() and len(list(cache.glob("image-*"))) == 2


def test_rows_naming_one_file_share_one_feature_computation(config, tmp_path):
    """Tux Paint in seven languages: seven rows, one image, one tower run."""
    from safetensors.torch import load_file

    from training.features import media_features

    embedder = prepare_model(config)
    image_row = next(r for r in read_manifest(config.manifests[0], "train") if "image" in r)
    rows = [dict(image_row, text=f"caption {n}") for n in range(7)]
    features = media_features(embedder, rows, tmp_path / "cache")
    (cache_file,) = (tmp_path / "cache").glob("image-*.safetensors")
    assert len(load_file(str(cache_file))) == 1 and sorted(features) == list(range(7))
    assert all(features[i] is features[0] for i in range(7))


def test_the_transcript_channel_shares_the_feature_cache_a_token_count_does_not(tmp_path):
    from encoders.config import AudioTowerConfig
    from training.features import cache_key

    clip = tmp_path / "clip.wav"
    clip.write_bytes(b"RIFF")
    row = {"audio": str(clip)}
    plain = cache_key(row, "audio", AudioTowerConfig())
    assert cache_key(row, "audio", AudioTowerConfig(transcribe=True, transcript_weight=0.8)) == plain
    assert cache_key(row, "audio", AudioTowerConfig(num_tokens=16)) != plain
