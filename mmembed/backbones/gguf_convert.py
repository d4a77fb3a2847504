"""GGUF -> safetensors folder, once. transformers dequantizes GGUF to full precision on load, but refuses to save a
model it loaded from GGUF; rebuilding it from its config and copying the weights in gives a plain folder that
reloads in seconds instead of 20-80 s."""

from __future__ import annotations

from pathlib import Path

import torch


def convert_gguf(gguf_path: Path, out_folder: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict(), assign=True, strict=False)
    model.tie_weights()
    missing = [name for name, tensor in model.state_dict().items() if tensor.is_meta]
    if missing:
        raise RuntimeError(f"GGUF conversion of {gguf_path} left weights unset: {missing[:5]}")
    model.save_pretrained(out_folder)
    tokenizer.save_pretrained(out_folder)
