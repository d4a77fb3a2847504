"""Typed training data: an :class:`Example` per manifest pair, a :class:`TrainBatch` per step (what objectives see)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mmembed.training_items import FeatureItem


@dataclass(frozen=True)
class Example:
    """One training pair: a document side (media features or a passage) and the text that goes with it."""

    item: FeatureItem  # embedded as a document
    text: str  # its caption / query
    negatives: tuple[str, ...] = ()  # hard negative passages
    source: str | None = None


@dataclass
class TrainBatch:
    items: list[FeatureItem]
    texts: list[str]
    negatives: list[str] = field(default_factory=list)  # joined to every query's candidates (InfoNCE)
    generative: list[str] | None = None  # next-token data, when not the texts themselves (GRIT)


def make_batch(examples: list[Example], indices: list[int]) -> TrainBatch:
    chosen = [examples[i] for i in indices]
    return TrainBatch(
        items=[e.item for e in chosen],
        texts=[e.text for e in chosen],
        negatives=[n for e in chosen for n in e.negatives][: len(chosen)],
    )
