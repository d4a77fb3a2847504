"""Translation anchors for the output head: a translated caption and its English original, as the model's query
vectors, so a head fitted on English captions (training/shortcut.py) keeps every language where English goes.

A multilingual manifest (``mmembed fetch tuxpaint-multilingual``) holds one row per item and language, each with a
``lang``; the rows of one item (its media path) in another language pair with its English row."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from mmembed.output_head import through_head

from .objectives.locked_text import LockedText


def pair_texts(rows: list[dict]) -> list[tuple[str, str, str]]:
    """(source, translated text, English text) for every non-English row whose item has an English row."""
    english: dict[str, str] = {}
    for row in rows:
        if row.get("lang") == "en":
            english[str(row.get("image") or row.get("audio"))] = row["text"]
    pairs = []
    for row in rows:
        original = english.get(str(row.get("image") or row.get("audio")))
        if row.get("lang") not in (None, "en") and original is not None and row["text"] != original:
            pairs.append((str(row.get("source", row["lang"])), row["text"], original))
    return pairs


def translation_banks(embedder, rows: list[dict], cache_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, D) translated and (N, D) English unit query vectors, row i a pair; the banks are cached per source."""
    pairs = pair_texts(rows)
    if not pairs:
        raise ValueError("the translation data has no pairs: rows need a 'lang' and an English ('en') row per item")
    banks = LockedText()
    by_source: dict[str, list[str]] = {}
    for source, text, original in pairs:
        by_source.setdefault(source, []).append(text)
        by_source.setdefault("translations-en", []).append(original)
    vectors = {}
    with torch.no_grad():
        for source, texts in sorted(by_source.items()):
            captions = sorted(set(texts))
            bank = banks.caption_bank(embedder, source, captions, cache_dir)
            vectors[source] = {text: bank[i] for i, text in enumerate(captions)}
    english = vectors["translations-en"]
    return (
        torch.stack([vectors[source][text] for source, text, _ in pairs]),
        torch.stack([english[original] for _, _, original in pairs]),
    )


def translation_loss(translated: torch.Tensor, english: torch.Tensor, head: torch.Tensor, temperature: float):
    """After the head, each translation finds its English original among the batch's (pairs sharing an original
    masked), and each original its translation."""
    moved, target = through_head(translated, head), through_head(english, head)
    same = (english @ english.T > 1 - 1e-6).fill_diagonal_(False)
    logits = (moved @ target.T / temperature).masked_fill(same, -1e4)
    order = torch.arange(len(moved))
    return (F.cross_entropy(logits, order) + F.cross_entropy(logits.T, order)) / 2
