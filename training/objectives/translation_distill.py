"""Anchored multilingual distillation: translated queries learn to land where the starting model puts their English
originals, while everything else the model embeds stays where it was.

Reimers & Gurevych (2020, "Making monolingual sentence embeddings multilingual using knowledge distillation") train a
student so that both a sentence and its translation map onto the teacher's vector of the sentence. Here the teacher
is the starting model itself (its adapter and projectors as loaded, before any step), and the student is the same
model with its LoRA adapter training:

- a **translation pair** (a batch from a source whose name starts with ``translation_prefix``; the row's text is the
  translation, its positive the English original): the student's query vectors of the translation and of the
  original regress onto the teacher's query vector of the original (``1 - cosine``), and the translation must rank
  its own original first among the batch's originals (cross-entropy at ``temperature``, shared originals masked);
- any other pair is an **anchor**: the student's document vector of the item (an image, a sound, a passage) and its
  query vector of the text regress onto the teacher's vectors of the same inputs (``anchor_weight``), so the English
  space that the image and audio projectors were aligned to does not move while the adapter learns other languages.

The adapter reaches every token, media soft tokens included: without the anchors, teaching it French would move the
images too. Teacher vectors are computed on first sight with the starting weights swapped in, and memoised (a
resumed stage recomputes them, to float precision the same). Batches must come from one source (``batching:
by_source``)."""

from __future__ import annotations

from contextlib import contextmanager

import torch
import torch.nn.functional as F

from . import Objective, register
from .infonce import duplicate_text_mask


@register("translation_distill")
class TranslationDistill(Objective):
    def __init__(
        self,
        translation_prefix: str = "translations-",
        temperature: float = 0.05,
        rank_weight: float = 1.0,
        anchor_weight: float = 1.0,
        original_weight: float = 1.0,
        query_instruction: str = "query",
        weight: float = 1.0,
    ):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"translation_distill temperature must be > 0, got {temperature}")
        self.translation_prefix, self.temperature = translation_prefix, temperature
        self.rank_weight, self.anchor_weight, self.weight = rank_weight, anchor_weight, weight
        self.original_weight = original_weight
        self.query_instruction = query_instruction
        self.__dict__["teacher_state"] = {}  # name -> the starting value of every weight that trains (not saved)
        self.__dict__["memory"] = {}  # ("query", text) or ("item", id(item)) -> the teacher's unit vector

    def prepare(self, embedder) -> None:
        """Keep the starting weights (called before the optimizer exists and before a checkpoint is resumed)."""
        trainable = self.trainable_weights(embedder)
        if not any(name.startswith("model.") for name in trainable):
            raise ValueError(
                "translation_distill teaches the backbone's adapter other languages: the backbone must train "
                "(train_backbone: true, and a LoRA adapter)"
            )
        self.teacher_state.update({name: p.detach().clone() for name, p in trainable.items()})

    @staticmethod
    def trainable_weights(embedder) -> dict[str, torch.nn.Parameter]:
        return {
            f"{part}.{name}": p
            for part, module in embedder.trainable_modules().items()
            for name, p in module.named_parameters()
            if p.requires_grad
        }

    @contextmanager
    def teacher_weights(self, embedder):
        """The starting weights swapped in (no gradients, eval mode), the student's put back afterwards."""
        weights = self.trainable_weights(embedder)
        student = {name: p.detach().clone() for name, p in weights.items()}
        was_training = embedder.model.training
        try:
            with torch.no_grad():
                for name, p in weights.items():
                    p.copy_(self.teacher_state[name])
                embedder.model.eval()
                yield
        finally:
            with torch.no_grad():
                for name, p in weights.items():
                    p.copy_(student[name])
            embedder.model.train(was_training)

    def teacher_queries(self, embedder, texts: list[str]) -> torch.Tensor:
        new = sorted({t for t in texts if ("query", t) not in self.memory})
        if new:
            with self.teacher_weights(embedder):
                vectors = F.normalize(embedder.embed_texts(new, self.query_instruction).float(), dim=-1)
            self.memory.update({("query", t): v for t, v in zip(new, vectors)})
        return torch.stack([self.memory["query", t] for t in texts])

    def teacher_items(self, embedder, items: list) -> torch.Tensor:
        new = list({id(item): item for item in items if ("item", id(item)) not in self.memory}.values())
        if new:
            with self.teacher_weights(embedder):
                vectors = F.normalize(embedder.embed_items(new).float(), dim=-1)
            self.memory.update({("item", id(item)): v for item, v in zip(new, vectors)})
        return torch.stack([self.memory["item", id(item)] for item in items])

    def forward(self, embedder, batch):
        if batch.source is None:
            raise ValueError("translation_distill needs batches from one source (batching: by_source)")
        if batch.source.startswith(self.translation_prefix):
            return self.translation_loss(embedder, batch)
        return self.anchor_loss(embedder, batch)

    def translation_loss(self, embedder, batch):
        originals = batch.item_texts()
        if any(item.kind is not None for item in batch.items):
            raise ValueError(f"source {batch.source!r}: translation pairs are text rows with an English positive")
        target = self.teacher_queries(embedder, originals)
        student = list(batch.texts) + (originals if self.original_weight else [])
        both = F.normalize(embedder.embed_texts(student, self.query_instruction), dim=-1)
        translated, original = both[: len(originals)], both[len(originals) :]
        target = target.to(translated.device, translated.dtype)
        translated_distance = 1 - (translated * target).sum(-1).mean()
        metrics = {}
        if self.original_weight:
            original_distance = 1 - (original * target).sum(-1).mean()
            metrics["original_cosine"] = 1 - original_distance.item()
        else:
            original_distance = translated_distance.new_zeros(())
        logits = translated @ target.T / self.temperature
        mask = duplicate_text_mask(originals, len(originals)).to(logits.device)
        order = torch.arange(len(originals), device=logits.device)
        rank = F.cross_entropy(logits.masked_fill(mask, float("-inf")), order)
        loss = translated_distance + self.original_weight * original_distance + self.rank_weight * rank
        metrics |= {
            "translation_cosine": 1 - translated_distance.item(),
            "translation_rank": rank.item(),
            "translation_accuracy": (logits.argmax(dim=1) == order).float().mean().item(),
        }
        return self.weight * loss, metrics

    def anchor_loss(self, embedder, batch):
        item_target = self.teacher_items(embedder, batch.items)
        query_target = self.teacher_queries(embedder, batch.texts)
        items = F.normalize(embedder.embed_items(batch.items), dim=-1)
        queries = F.normalize(embedder.embed_texts(batch.texts, self.query_instruction), dim=-1)
        item_distance = 1 - (items * item_target.to(items.device, items.dtype)).sum(-1).mean()
        query_distance = 1 - (queries * query_target.to(queries.device, queries.dtype)).sum(-1).mean()
        loss = self.anchor_weight * (item_distance + query_distance)
        metrics = {"anchor_item_cosine": 1 - item_distance.item(), "anchor_query_cosine": 1 - query_distance.item()}
        return self.weight * loss, metrics
