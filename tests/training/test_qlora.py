"""QLoRA: the backbone in 4-bit NF4 (bitsandbytes, which runs on the CPU too), a LoRA adapter trained on top."""
import pytest
import torch

from mmembed.manifest import write_manifest
from training.config import LoraSettings, TrainConfig
from training.trainer import prepare_model, train


@pytest.fixture
def qlora_config(tmp_path, tiny_backbone):
    rows = [{"text": f"what is {w}?", "positive": f"{w}: a word about {w}.", "split": "train"}
            for w in ("red", "cat", "sun", "sea", "tree", "car", "bird", "rain")]
    return TrainConfig(model=str(tiny_backbone), manifests=[str(write_manifest(tmp_path / "pairs.jsonl", rows))],
                       output_dir=str(tmp_path / "qlora"), steps=3, batch_size=8, warmup_steps=1, checkpoint_every=3,
                       log_every=1, device="cpu", learning_rate=1e-3, quantization="4bit",
                       lora=LoraSettings(r=4, alpha=8, target_modules=["q_proj", "v_proj"]),
                       model_overrides={"max_length": 64})


def test_the_backbone_is_4bit_and_only_the_adapter_trains(qlora_config):
    import bitsandbytes as bnb

    embedder = prepare_model(qlora_config)
    layer = embedder.model.base_model.model.model.layers[0].self_attn
    assert isinstance(layer.q_proj.base_layer, bnb.nn.Linear4bit) and isinstance(layer.k_proj, bnb.nn.Linear4bit)
    trainable = {name for name, p in embedder.model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in name for name in trainable)


def test_qlora_training_runs_and_saves_an_adapter_for_the_full_precision_backbone(qlora_config):
    import json

    import mmembed

    folder = train(qlora_config, progress=False)
    losses = [json.loads(line)["loss"] for line in open(qlora_config.output_dir + "/metrics.jsonl")]
    assert len(losses) == 3 and all(torch.isfinite(torch.tensor(losses)))
    from safetensors.torch import load_file

    adapter = load_file(str(folder / "adapter" / "adapter_model.safetensors"))
    assert any("lora_B" in k and v.abs().sum() > 0 for k, v in adapter.items())  # B starts at zero: it trained
    loaded = mmembed.load(str(folder), device="cpu")  # adapter on the ordinary backbone, as QLoRA deploys
    assert hasattr(loaded.model, "peft_config") and loaded.encode(["what is red?"]).shape == (1, 32)


def test_quantization_is_checked(qlora_config, tiny_backbone):
    import mmembed

    qlora_config.lora = None
    with pytest.raises(ValueError, match="LoRA adapter"):
        prepare_model(qlora_config)
    with pytest.raises(ValueError, match="NF4"):
        mmembed.load(str(tiny_backbone), device="cpu", quantization="3bit")
