"""Save and load an embedder as one self-describing folder.

    mmembed_config.json                 EmbedderConfig: backbone source, pooling, attention, instructions, dimension
    tokenizer/                          the tokenizer, with the <|embed|> token
    mode_token_embeddings.safetensors   the mode token's embedding row(s)
    adapter/                            the peft (LoRA) adapter, when the model was fine-tuned with one
    backbone/                           full backbone weights, only when ``config.backbone`` is None
                                        (a random-init or fully fine-tuned model that no source can rebuild)

The backbone itself is referenced, not copied, so a trained checkpoint weighs a few MB.
"""
from __future__ import annotations

from pathlib import Path

import torch

from .config import EmbedderConfig
from .mode_token import load_mode_token_rows, save_mode_token_rows


def save_embedder(embedder, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = embedder.config
    config.has_adapter = hasattr(embedder.model, "peft_config")
    config.save(folder)
    embedder.tokenizer.save_pretrained(folder / "tokenizer")
    save_mode_token_rows(embedder.causal_lm, embedder.embed_token_id, folder)
    if config.has_adapter:
        embedder.model.save_pretrained(folder / "adapter", save_embedding_layers=False)  # the mode row is saved above
    if config.backbone is None:
        if config.has_adapter:
            raise ValueError("cannot save an adapter on a backbone with no source; merge it or set config.backbone")
        embedder.causal_lm.save_pretrained(folder / "backbone")
    return folder


def load_embedder(cls, folder: Path, device=None, dtype=torch.float32):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .backbones import load_backbone

    config = EmbedderConfig.load(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder / "tokenizer")
    if (folder / "backbone").is_dir():
        model = AutoModelForCausalLM.from_pretrained(folder / "backbone", dtype=dtype, attn_implementation=config.attn_implementation)
    elif config.backbone:
        model, _ = load_backbone(config.backbone, config.attn_implementation, dtype)
    else:
        raise FileNotFoundError(f"{folder} has no backbone/ folder and its config names no backbone source")
    token_id = tokenizer.convert_tokens_to_ids(config.embed_token)
    if token_id >= model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(token_id + 1, mean_resizing=False)
    load_mode_token_rows(model, token_id, folder)
    if config.has_adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, folder / "adapter")
    model.eval()
    return cls(model, tokenizer, config, device)
