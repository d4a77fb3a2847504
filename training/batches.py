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
    source: str | None = None  # the source every pair comes from, when they share one (batches by source)

    def item_texts(self) -> list[str]:
        """The document side in words: a passage's own text, a media item's caption (its pair's text)."""
        return [item.text if item.text is not None else text for item, text in zip(self.items, self.texts)]


def make_batch(examples: list[Example], indices: list[int]) -> TrainBatch:
    chosen = [examples[i] for i in indices]
    sources = {e.source for e in chosen}
    return TrainBatch(
        items=[e.item for e in chosen],
        texts=[e.text for e in chosen],
        negatives=[n for e in chosen for n in e.negatives][: len(chosen)],
        source=sources.pop() if len(sources) == 1 else None,
    )
