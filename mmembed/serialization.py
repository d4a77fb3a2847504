"""Save and load an embedder as one self-describing folder.

    mmembed_config.json                 EmbedderConfig: backbone source, pooling, attention, instructions, dimension
    tokenizer/                          the tokenizer, with the <|embed|> token; written only when the backbone's
                                        own tokenizer plus the special tokens would not be the same
    special_token_embeddings.safetensors  the rows of <|embed|>, <image>, <audio>
    projectors.safetensors              the modality projectors (when the model has towers; tower specs: the config)
    shortcuts.safetensors               the tower shortcuts (when fitted; their weights in the blend: the config)
    center.safetensors                  the mean vector subtracted before normalising (when the model has one)
    output_head.safetensors             the linear map after centering, before normalising (when fitted)
    calibration.json                    cosine -> probability of relevance per pair of modalities (when calibrated)
    view/                               a second output head and shortcuts on the same states (view.py; when added)
    final_shortcut/                     maps from tower features onto the final vectors (final_shortcut.py; when fitted)
    adapter/                            the peft (LoRA) adapter, when the model was fine-tuned with one
    backbone/                           full backbone weights, only when ``config.backbone`` is None
                                        (a random-init or fully fine-tuned model that no source can rebuild)

The backbone itself is referenced, not copied, so a trained checkpoint weighs a few MB.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .adapters import load_adapter
from .calibration import Calibration
from .config import EmbedderConfig
from .final_shortcut import FinalShortcut
from .modalities import SHORTCUTS_FILE, load_shortcuts, save_shortcuts
from .output_head import load_head, save_head
from .special_tokens import add_saved_tokens, add_tokens_at, load_token_rows, save_token_rows
from .view import View

PROJECTORS_FILE = "projectors.safetensors"
CENTER_FILE = "center.safetensors"


def save_tensors(tensors: dict, path: Path) -> None:
    """Written whole or not at all (a stopped run never leaves a half file under the final name, and a concurrent run
    writes its own partial file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    save_file({key: value.detach().contiguous() for key, value in tensors.items()}, str(partial))
    partial.replace(path)


def require_new_folder(folder: Path) -> None:
    """Refuse to write a model into ``folder`` unless it is new or empty (never mix two models' files)."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ValueError(f"--out {folder} already exists and is not an empty folder; remove it or choose another")


def backbone_rebuilds_tokenizer(embedder) -> bool:
    """Whether ``load_embedder`` rebuilds this tokenizer from the backbone's own: the same vocabulary once the special
    tokens are added the way loading adds them (``add_tokens_at``), each at its id. Then no tokenizer/ is written (a
    262k-token vocabulary weighs 33 MB, more than the rest of a trained checkpoint)."""
    if not embedder.config.backbone:
        return False
    from transformers import AutoTokenizer

    from .backbones import resolve_backbone
    from .backbones.loader import BackboneNotFoundError

    try:
        own = AutoTokenizer.from_pretrained(resolve_backbone(embedder.config.backbone))
    except (OSError, ValueError, BackboneNotFoundError):
        return False
    if add_tokens_at(own, embedder.config.special_tokens, embedder.special_token_ids) is not None:
        return False  # loading would refuse this folder without its tokenizer/
    return own.get_vocab() == embedder.tokenizer.get_vocab()


def save_embedder(embedder, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = embedder.config
    config.has_adapter = hasattr(embedder.model, "peft_config")
    config.save(folder)
    if not backbone_rebuilds_tokenizer(embedder):
        embedder.tokenizer.save_pretrained(folder / "tokenizer")
    save_token_rows(embedder.causal_lm, embedder.special_token_ids, folder)
    if embedder.modalities.kinds:
        save_file(embedder.modalities.projectors.state_dict(), str(folder / PROJECTORS_FILE))
    save_shortcuts(embedder.modalities.shortcuts, folder / SHORTCUTS_FILE)
    if embedder.center is not None:
        save_file({"center": embedder.center.detach().float().cpu().contiguous()}, str(folder / CENTER_FILE))
    if embedder.head is not None:
        save_head(embedder.head, folder)
    if embedder.view is not None:
        embedder.view.save(folder)
    if embedder.final_shortcut is not None:
        embedder.final_shortcut.save(folder)
    if embedder.calibration is not None:
        embedder.calibration.save(folder)
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
    tokenizer = None
    if (folder / "backbone").is_dir():
        model = AutoModelForCausalLM.from_pretrained(
            folder / "backbone", dtype=dtype, attn_implementation=config.attn_implementation
        )
    elif config.backbone:
        model, tokenizer = load_backbone(config.backbone, config.attn_implementation, dtype)
    else:
        raise FileNotFoundError(f"{folder} has no backbone/ folder and its config names no backbone source")
    if (folder / "tokenizer").is_dir():
        tokenizer = AutoTokenizer.from_pretrained(folder / "tokenizer")
    elif tokenizer is None:
        raise FileNotFoundError(f"{folder} has no tokenizer/ folder and no backbone source to take one from")
    else:  # the backbone's own tokenizer, given the special tokens at the ids their rows were saved under
        add_saved_tokens(tokenizer, config.special_tokens, folder)
    load_token_rows(model, folder)
    if config.has_adapter:
        model = load_adapter(model, folder / "adapter")
    model.eval()
    embedder = cls(model, tokenizer, config, device)
    if embedder.modalities.kinds:
        embedder.modalities.projectors.load_state_dict(load_file(str(folder / PROJECTORS_FILE)))
        embedder.modalities.shortcuts = load_shortcuts(folder / SHORTCUTS_FILE, embedder.modalities.new_shortcut)
        embedder.modalities.to(embedder.device)
    if (folder / CENTER_FILE).is_file():
        embedder.center = load_file(str(folder / CENTER_FILE))["center"].to(embedder.device)
    head = load_head(folder, embedder.hidden_size)
    embedder.head = head.to(embedder.device) if head is not None else None
    view = View.load(folder, embedder.hidden_size, embedder.modalities.new_shortcut)
    embedder.view = view.to(embedder.device) if view is not None else None
    final = FinalShortcut.load(
        folder,
        lambda kind, hidden, in_dim: embedder.modalities.new_shortcut(
            kind, out_dim=embedder.dimension, hidden_dim=hidden, in_dim=in_dim
        ),
    )
    embedder.final_shortcut = final.to(embedder.device) if final is not None else None
    missing = sorted(k for k, w in config.shortcut_weights.items() if w > 0 and k not in embedder.modalities.shortcuts)
    if missing:
        raise FileNotFoundError(
            f"{folder}: the config blends tower shortcuts for {missing} but {SHORTCUTS_FILE} has none"
        )
    embedder.calibration = Calibration.load(folder)
    return embedder
