"""Which vector space an embedder writes into: a short id that changes whenever its vectors would.

It hashes the config (minus nothing that changes vectors) and every weight that training changes or that is not
fixed by the backbone source: special-token rows, projectors, adapter parameters, the output head, a view, a final
shortcut."""

from __future__ import annotations

import hashlib
import json

import torch

# How a view computes media vectors. 2: from the LLM's own states; until 2026-12-07 a view behind a primary without
# an output head read the primary's shortcut and transcript blends instead, so media indexed then is another space.
VIEW_MEDIA_REVISION = 2


def space_id(embedder) -> str:
    return fingerprint(embedder, with_projectors=True)


def text_space_id(embedder) -> str:
    """The id of the text side alone: text vectors never pass through the modality projectors, so a stage that
    trains only the projectors (``locked_text``) keeps it, and what was computed from texts (caption banks) is
    reused by the next such stage."""
    return fingerprint(embedder, with_projectors=False)


def fingerprint(embedder, with_projectors: bool) -> str:
    settings = embedder.config.to_dict()
    # Media only, never part of the text side's id: the tower shortcuts' weights and the towers' settings (a text
    # never passes a tower: the image summary, the transcript channel and its weight move media vectors alone).
    shortcut_weights = settings.pop("shortcut_weights")
    towers = {key: settings.pop(key) for key in ("image_tower", "audio_tower") if key in settings}
    if with_projectors:
        summary = (towers.get("image_tower") or {}).pop("summary_blocks", None)
        if summary:  # named only when set, so a model without one keeps the id it had before summaries
            towers["image_tower"]["summary_blocks"] = summary
        settings.update(towers)
    if with_projectors and shortcut_weights:
        settings["shortcut_weights"] = shortcut_weights
    view = getattr(embedder, "view", None)
    if view is not None:  # a view changes every vector; its media side, only media vectors
        settings["view_text_share"] = view.config.text_share
        if with_projectors:
            settings["view_media"] = [view.config.media_shares, view.config.shortcut_weights, VIEW_MEDIA_REVISION]
    final = getattr(embedder, "final_shortcut", None)
    if final is not None and with_projectors:  # media vectors only
        settings["final_shortcut_weights"] = final.config.weights
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    rows = embedder.causal_lm.get_input_embeddings().weight.detach()[torch.tensor(embedder.special_token_ids)]
    tensors = [rows]
    if with_projectors:
        tensors += [p.detach() for p in embedder.modalities.projectors.parameters()]
        tensors += [p.detach() for p in embedder.modalities.shortcuts.parameters()]
    tensors += [p.detach() for name, p in embedder.model.named_parameters() if "lora_" in name]
    if getattr(embedder, "head", None) is not None:
        tensors.append(embedder.head.detach())
    if view is not None:
        tensors += [view.head.detach()] if view.head is not None else []
        tensors += [p.detach() for p in view.shortcuts.parameters()] if with_projectors else []
    if final is not None and with_projectors:
        tensors += [p.detach() for p in final.shortcuts.parameters()]
    if embedder.config.backbone is None:  # the backbone weights are the folder's own: hash a sample of them
        tensors += [p.detach().flatten()[:4096] for p in embedder.causal_lm.parameters()]
    for tensor in tensors:
        digest.update(tensor.float().cpu().contiguous().numpy().tobytes())
    name = (embedder.config.backbone or "custom").rstrip("/").split("/")[-1]
    return f"{name}-{digest.hexdigest()[:12]}"
