"""Locked-text alignment: the projectors learn to land media where the frozen model already puts their captions.

LLaVA's first stage trains the projector with the LLM frozen; LiT locks one tower and tunes the other. Here the
backbone and its adapter are frozen (``train_backbone: false``), so every caption's vector is a constant: each
source's captions are embedded once, as queries, into a bank, and each media item is scored against *all* captions
of its source (thousands of negatives instead of the batch's 23) while only its modality projector learns. Text
retrieval, STS and every text-only figure stay exactly as they were; the image and audio sides move to the text
space rather than the text space bending to them.

The loss is the mean of item -> bank cross-entropy (every caption of the source a candidate; captions are unique in
the bank, so a caption shared by several items is one class) and caption -> item over the batch (pairs sharing a
caption masked, as in InfoNCE), at a temperature fixed or learned. Batches must hold media of one source
(``batching: by_source``); text-only sources have no place in this stage."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from tqdm.auto import tqdm

from mmembed.serialization import save_tensors

from . import Objective, logit_scale, register, scale_of
from .infonce import duplicate_text_mask


@register("locked_text")
class LockedText(Objective):
    def __init__(
        self,
        temperature: float = 0.05,
        learnable_temperature: bool = True,
        query_instruction: str = "query",
        weight: float = 1.0,
        bank_batch_size: int = 64,
    ):
        super().__init__()
        self.logit_scale = logit_scale(temperature, learnable_temperature)
        self.query_instruction, self.weight, self.bank_batch_size = query_instruction, weight, bank_batch_size
        self.__dict__["banks"] = {}  # source -> (N, D) unit caption vectors; not checkpointed: read or built per run
        self.__dict__["positions"] = {}  # source -> {caption: row in the bank}

    def prepare(self, embedder) -> None:
        trainable = [name for name, p in embedder.model.named_parameters() if p.requires_grad]
        if trainable:
            raise ValueError(
                f"locked_text scores media against captions embedded once, so the backbone must stay frozen "
                f"(set train_backbone: false); {len(trainable)} backbone tensors would train, e.g. {trainable[0]}"
            )

    @torch.no_grad()
    def prepare_examples(self, embedder, examples: list, cache_dir: Path) -> None:
        captions: dict[str, set[str]] = {}
        for example in examples:
            if example.item.kind is None:
                raise ValueError(
                    f"locked_text aligns media to captions; source {example.source!r} has text pairs "
                    f"(give it no share, or leave its manifest out of this stage)"
                )
            captions.setdefault(example.source or "all", set()).add(example.text)
        was_training = embedder.model.training
        embedder.model.eval()
        for source, texts in sorted(captions.items()):
            unique = sorted(texts)
            self.banks[source] = self.caption_bank(embedder, source, unique, cache_dir)
            self.positions[source] = {text: i for i, text in enumerate(unique)}
        embedder.model.train(was_training)

    def caption_bank(self, embedder, source: str, captions: list[str], cache_dir: Path) -> torch.Tensor:
        """(N, D) unit vectors of ``captions`` as queries, read from ``cache_dir`` when the same text side (its
        weights and centering vector; projectors do not touch text) embedded the same captions before: a resumed
        stage, or the next locked-text stage, skips minutes of CPU."""
        from mmembed.fingerprint import text_space_id

        digest = hashlib.sha256(f"{text_space_id(embedder)}|{self.query_instruction}|".encode())
        if embedder.center is not None:
            digest.update(embedder.center.float().cpu().numpy().tobytes())
        digest.update("\n".join(captions).encode())
        path = Path(cache_dir) / f"caption-bank-{digest.hexdigest()[:24]}.safetensors"
        if path.is_file():
            return load_file(str(path))["bank"]
        vectors = []
        for start in tqdm(range(0, len(captions), self.bank_batch_size), desc=f"caption bank {source}", unit="batch"):
            chunk = captions[start : start + self.bank_batch_size]
            vectors.append(F.normalize(embedder.embed_texts(chunk, self.query_instruction).float(), dim=-1).cpu())
        bank = torch.cat(vectors)
        save_tensors({"bank": bank}, path)  # atomic: a concurrent run never reads half a file
        return bank

    def forward(self, embedder, batch):
        source = batch.source or "all"
        if source not in self.banks:
            raise ValueError(f"locked_text has no caption bank for source {source!r} (batches must be by source)")
        bank, positions = self.banks[source], self.positions[source]
        items = F.normalize(embedder.embed_items(batch.items), dim=-1)
        bank = bank.to(items.device)
        target = torch.tensor([positions[text] for text in batch.texts], device=items.device)
        scale = scale_of(self.logit_scale)
        item_to_bank = scale * items @ bank.T  # (B, N): each item against every caption of its source
        text_to_item = scale * bank[target] @ items.T  # (B, B): each pair's caption against the batch's items
        mask = duplicate_text_mask(batch.texts, len(batch.texts)).to(items.device)
        text_to_item = text_to_item.masked_fill(mask, float("-inf"))
        order = torch.arange(len(batch.texts), device=items.device)
        loss = (F.cross_entropy(item_to_bank, target) + F.cross_entropy(text_to_item, order)) / 2
        accuracy = (item_to_bank.argmax(dim=1) == target).float().mean()
        metrics = {"locked_text": loss.item(), "bank_accuracy": accuracy.item(), "temperature": 1 / scale.item()}
        return self.weight * loss, metrics
