"""The CUDA path. Deselected by default (``-m "not cuda"`` in pyproject); run on a GPU machine with ``-m cuda``."""

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.cuda

TEXTS = ["A cat sits on the mat.", "Stock markets fell sharply today.", "Red squares and blue circles.", "Dog."]


@pytest.mark.parametrize("attention", ["causal", "bidirectional"])
def test_cuda_matches_cpu(make_embedder, attention):
    assert torch.cuda.is_available(), "run this marker on a machine with CUDA"
    embedder = make_embedder(attention=attention)
    cpu = embedder.encode(TEXTS)
    gpu = embedder.to("cuda").encode(TEXTS)
    assert embedder.decoder.device.type == "cuda"
    np.testing.assert_allclose(gpu, cpu, atol=1e-4)
    assert embedder.generate("A cat", max_new_tokens=4) is not None


def test_cuda_multimodal_matches_cpu(make_multimodal_embedder):
    from media_files import square, tone

    embedder = make_multimodal_embedder()
    inputs = ["A red square.", square("red"), (tone(0.5), 16_000), {"image": square("blue"), "text": "colour?"}]
    cpu = embedder.encode(inputs)
    gpu = embedder.to("cuda").encode(inputs)
    assert next(embedder.modalities.tower("image").parameters()).device.type == "cuda"
    np.testing.assert_allclose(gpu, cpu, atol=1e-4)


def test_cuda_training_steps_with_bf16_autocast(tmp_path, tiny_backbone, tiny_open_clip, tiny_whisper):
    import json

    from media_files import circle, square

    from mmembed.data.manifest import write_manifest
    from training.config import LoraSettings, TrainConfig
    from training.trainer import train

    rows = []
    for i, colour in enumerate(["red", "blue", "green", "yellow"]):
        (square if i % 2 else circle)(colour).save(tmp_path / f"{i}.png")
        rows.append({"image": f"{i}.png", "text": f"a {colour} shape", "split": "train"})
    manifest = write_manifest(tmp_path / "m.jsonl", rows)
    config = TrainConfig(
        model=str(tiny_backbone),
        manifests=[str(manifest)],
        output_dir=str(tmp_path / "run"),
        steps=3,
        batch_size=4,
        warmup_steps=1,
        checkpoint_every=3,
        log_every=1,
        device="cuda",
        lora=LoraSettings(r=4, alpha=8, target_modules=["q_proj", "v_proj"]),
        model_overrides={
            "max_length": 64,
            "image_tower": {"kind": "open_clip", "model_name": tiny_open_clip},
            "audio_tower": {"source": str(tiny_whisper)},
        },
    )
    train(config, progress=False)
    losses = [json.loads(line)["loss"] for line in open(tmp_path / "run" / "metrics.jsonl")]
    assert len(losses) == 3 and all(np.isfinite(losses))
