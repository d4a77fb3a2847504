"""QLoRA: the backbone in 4-bit NF4 (bitsandbytes, which runs on the CPU too), a LoRA adapter trained on top.

bitsandbytes is the optional ``qlora`` extra: once installed, peft imports it whenever it builds LoRA layers, and on
CPUs with AVX-512 it prints a warning about a hub kernel at import. So the ordinary environment does not have it
(``scripts/setup.sh`` puts the extra in ``.venv/extras/qlora``) and these tests run in a process that does, as a
user who installed ``mmembed[qlora]`` would.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
QLORA_SITE = REPO / ".venv" / "extras" / "qlora"

PREAMBLE = """
import json, sys
from pathlib import Path
import torch
import mmembed
from mmembed.data.manifest import write_manifest
from tiny_models import make_backbone_folder
from training.config import LoraSettings, TrainConfig
from training.trainer import prepare_model, train

tmp = Path(sys.argv[1])
backbone = make_backbone_folder(tmp / "backbone", "llama")
rows = [{"text": f"what is {w}?", "positive": f"{w}: a word about {w}.", "split": "train"}
        for w in ("red", "cat", "sun", "sea", "tree", "car", "bird", "rain")]
config = TrainConfig(model=str(backbone), manifests=[str(write_manifest(tmp / "pairs.jsonl", rows))],
                     output_dir=str(tmp / "qlora"), steps=3, batch_size=8, warmup_steps=1, checkpoint_every=3,
                     log_every=1, device="cpu", learning_rate=1e-3, quantization="4bit",
                     lora=LoraSettings(r=4, alpha=8, target_modules=["q_proj", "v_proj"]),
                     model_overrides={"max_length": 64})
"""


def run_with_qlora_extra(body: str, tmp_path: Path) -> dict:
    """Run ``body`` (after PREAMBLE) with the qlora extra importable; it prints one JSON object last."""
    assert (QLORA_SITE / "bitsandbytes").is_dir(), "scripts/setup.sh installs the qlora extra into .venv/extras/qlora"
    path = os.pathsep.join(map(str, [REPO, REPO / "tests", QLORA_SITE]))
    result = subprocess.run(
        [sys.executable, "-c", PREAMBLE + textwrap.dedent(body), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_backbone_is_4bit_and_only_the_adapter_trains(tmp_path):
    found = run_with_qlora_extra(
        """
        import bitsandbytes as bnb
        embedder = prepare_model(config)
        layer = embedder.model.base_model.model.model.layers[0].self_attn
        trainable = [name for name, p in embedder.model.named_parameters() if p.requires_grad]
        print(json.dumps({"q_4bit": isinstance(layer.q_proj.base_layer, bnb.nn.Linear4bit),
                          "k_4bit": isinstance(layer.k_proj, bnb.nn.Linear4bit), "trainable": trainable}))
    """,
        tmp_path,
    )
    assert found["q_4bit"] and found["k_4bit"]
    assert found["trainable"] and all("lora_" in name for name in found["trainable"])


def test_qlora_training_runs_and_saves_an_adapter_for_the_full_precision_backbone(tmp_path):
    found = run_with_qlora_extra(
        """
        from safetensors.torch import load_file
        folder = train(config, progress=False)
        losses = [json.loads(line)["loss"] for line in open(config.output_dir + "/metrics.jsonl")]
        adapter = load_file(str(folder / "adapter" / "adapter_model.safetensors"))
        loaded = mmembed.load(str(folder), device="cpu")  # adapter on the ordinary backbone, as QLoRA deploys
        trained = any("lora_B" in k and v.abs().sum().item() > 0 for k, v in adapter.items())
        print(json.dumps({"losses": losses, "b_trained": trained,
                          "has_adapter": hasattr(loaded.model, "peft_config"),
                          "shape": list(loaded.encode(["what is red?"]).shape)}))
    """,
        tmp_path,
    )
    assert len(found["losses"]) == 3 and all(abs(loss) < float("inf") for loss in found["losses"])
    assert found["b_trained"] and found["has_adapter"] and found["shape"] == [1, 32]  # B starts at zero: it trained


def test_quantization_is_checked(tmp_path, tiny_backbone):
    import mmembed
    from training.config import LoraSettings, TrainConfig
    from training.trainer import prepare_model

    with pytest.raises(ValueError, match="LoRA adapter"):
        prepare_model(
            TrainConfig(
                model=str(tiny_backbone), manifests=[], output_dir=str(tmp_path), quantization="4bit", lora=None
            )
        )
    with pytest.raises(ValueError, match="NF4"):
        mmembed.load(str(tiny_backbone), device="cpu", quantization="3bit")
    with pytest.raises(ImportError, match=r"pip install 'mmembed\[qlora\]'"):  # this environment has no bitsandbytes
        prepare_model(
            TrainConfig(
                model=str(tiny_backbone),
                manifests=[],
                output_dir=str(tmp_path),
                quantization="4bit",
                lora=LoraSettings(r=4, alpha=8, target_modules=["q_proj"]),
            )
        )


@pytest.mark.integration
def test_loading_a_trained_model_imports_no_bitsandbytes_and_prints_no_warnings(tmp_path):
    """What `mmembed demo` starts with: the shipped checkpoint (a LoRA adapter), loaded with warnings as errors."""
    script = """
import sys, warnings
warnings.simplefilter("error")
import mmembed
model = mmembed.load("mmembed-default", device="cpu")
assert "bitsandbytes" not in sys.modules, "bitsandbytes was imported"
print("ok", model.hidden_size)
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok 640", result.stderr[-3000:]
    assert "kernels" not in result.stderr and "FutureWarning" not in result.stderr
