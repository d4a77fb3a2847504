"""Data-parallel training: two CPU processes under torchrun (gloo) train one model together."""

import json
import os
import subprocess
import sys

import pytest
import yaml
from media_files import write_audio

from mmembed.data.manifest import write_manifest
from training.config import LoraSettings, TrainConfig
from training.distributed import Distributed


def test_each_process_takes_its_share_of_the_global_batch():
    indices = list(range(10))
    shares = [Distributed(rank, 3).shard(indices) for rank in range(3)]
    assert shares == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    assert Distributed().shard(indices) == indices and not Distributed().enabled


@pytest.mark.integration
def test_torchrun_two_processes_train_and_save_one_model(tiny_backbone, tiny_whisper, tmp_path):
    # sounds and text pairs (the tiny open_clip tower is registered in this process only, so no images here)
    rows = [
        {"audio": f"tone{hz}.wav", "text": f"a tone of {hz} hertz", "split": "train"} for hz in (220, 440, 660, 880)
    ]
    for hz in (220, 440, 660, 880):
        write_audio(tmp_path / f"tone{hz}.wav", seconds=0.3, hz=hz)
    rows += [
        {"text": f"what is {w}?", "positive": f"{w} is a word.", "split": "train"} for w in ("red", "cat", "sun", "sea")
    ]
    manifest = write_manifest(tmp_path / "m.jsonl", rows)
    config = TrainConfig(
        model=str(tiny_backbone),
        manifests=[str(manifest)],
        output_dir=str(tmp_path / "ddp"),
        steps=3,
        batch_size=8,
        warmup_steps=1,
        checkpoint_every=3,
        log_every=1,
        device="cpu",
        lora=LoraSettings(r=4, alpha=8, target_modules=["q_proj", "v_proj"]),
        model_overrides={"max_length": 64, "audio_tower": {"source": str(tiny_whisper)}},
    )
    settings = config.to_dict()
    path = tmp_path / "ddp.yaml"
    path.write_text(yaml.safe_dump(settings))
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_port",
            "29517",
            "-m",
            "training",
            str(path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    metrics = [json.loads(line) for line in open(tmp_path / "ddp" / "metrics.jsonl")]
    assert [m["step"] for m in metrics] == [0, 1, 2] and all(m["world_size"] == 2 for m in metrics)  # rank 0 alone logs
    assert (tmp_path / "ddp" / "model" / "adapter").is_dir() and (
        tmp_path / "ddp" / "checkpoints" / "step-0000003"
    ).is_dir()
    import mmembed

    assert mmembed.load(str(tmp_path / "ddp" / "model"), device="cpu").encode(["a tone"]).shape == (1, 32)
