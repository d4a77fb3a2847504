"""Training on tiny random models: a step lowers the loss on a fixed batch; resume gives the same next loss."""
import json

import numpy as np
import pytest
import torch

from media_files import circle, square, write_audio
from training.config import LoraSettings, TrainConfig
from training.data import read_manifest, write_manifest
from training.objectives import build_objectives
from training.trainer import batch_indices, build_examples, make_batch, prepare_model, train


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
        model=str(tiny_backbone), manifests=[str(manifest)], output_dir=str(tmp_path / "run"), steps=4, batch_size=4,
        warmup_steps=1, checkpoint_every=2, log_every=1, device="cpu", learning_rate=1e-3,
        lora=LoraSettings(r=4, alpha=8, target_modules=["q_proj", "v_proj"]),
        model_overrides={"max_length": 64, "image_tower": {"kind": "open_clip", "model_name": tiny_open_clip},
                         "audio_tower": {"source": str(tiny_whisper)}},
    )


def test_manifest_round_trip_and_splits(manifest):
    assert len(read_manifest(manifest)) == 11 and len(read_manifest(manifest, "test")) == 1
    assert read_manifest(manifest)[0]["image"] == str(manifest.parent / "img0.png")


def test_infonce_step_lowers_the_loss_on_a_fixed_batch(config):
    torch.manual_seed(0)
    embedder = prepare_model(config)
    examples = build_examples(embedder, read_manifest(config.manifests[0], "train"), config_path(config) / "cache")
    batch = make_batch(examples, list(range(len(examples))))
    objective = build_objectives({"infonce": {}})["infonce"]
    params = [p for p in embedder.model.parameters() if p.requires_grad] + list(embedder.modalities.projectors.parameters())
    optimizer = torch.optim.AdamW(params + list(objective.parameters()), lr=1e-3)
    losses = []
    for _ in range(5):
        loss, metrics = objective(embedder, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
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
    (folder / "stage2.yaml").write_text("model: ../runs/stage1/model\nmanifests: [../data/x.jsonl]\nfeature_cache: ../cache\n")
    config = TrainConfig.from_yaml(folder / "stage2.yaml")
    assert config.model == str(folder / "../runs/stage1/model") and config.feature_cache == str(folder / "../cache")
    (folder / "bad.yaml").write_text("stepz: 3\n")
    with pytest.raises(ValueError, match="stepz"):
        TrainConfig.from_yaml(folder / "bad.yaml")
