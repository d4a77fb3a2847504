"""Scored text pairs for STS evaluation, derived from WordNet 3.0 nouns (Debian ``wordnet-base``).

Each pair is two synset glosses; its score is the Wu-Palmer similarity of the synsets in the hypernym graph (see
:func:`wu_palmer`). For every sampled synset
four partners span the scale: its hypernym, a sibling (same hypernym), a synset of the same lexicographer file and a
random noun. Only synsets of the WordNet manifest's test split are sampled, so models trained on the train split
never saw these glosses. Rows: ``{"text": gloss, "pair": gloss, "score": 0..1, "split": "test"}``."""

from __future__ import annotations

import random
from collections import deque
from pathlib import Path

from ..manifest import write_manifest
from ..wordnet import data_noun, parse_synsets, wordnet_split
from . import register


def ancestors(synsets: dict, offset: str) -> dict[str, int]:
    """{ancestor (itself included): fewest hypernym steps up to it}."""
    found, queue = {offset: 0}, deque([offset])
    while queue:
        current = queue.popleft()
        for parent in synsets[current]["hypernyms"]:
            if parent not in found:
                found[parent] = found[current] + 1
                queue.append(parent)
    return found


def wu_palmer(synsets: dict, a: str, b: str, depth_cache: dict) -> float:
    """Wu & Palmer (1994): ``2 * N3 / (N1 + N2 + 2 * N3)``, N1 / N2 the steps from a / b up to a common ancestor,
    N3 that ancestor's depth (1 + steps to a root); the best common ancestor is taken. Always in (0, 1]."""

    def depth(offset):
        if offset not in depth_cache:
            up = ancestors(synsets, offset)
            depth_cache[offset] = 1 + min(steps for node, steps in up.items() if not synsets[node]["hypernyms"])
        return depth_cache[offset]

    up_a, up_b = ancestors(synsets, a), ancestors(synsets, b)
    scores = [2 * depth(c) / (up_a[c] + up_b[c] + 2 * depth(c)) for c in set(up_a) & set(up_b)]
    return max(scores, default=0.0)


def sts_rows(synsets: dict, count: int = 500, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    offsets = sorted(synsets)
    children: dict[str, list[str]] = {}
    by_lexname: dict[str, list[str]] = {}
    for offset, synset in synsets.items():
        for parent in synset["hypernyms"]:
            children.setdefault(parent, []).append(offset)
        by_lexname.setdefault(synset["lexname"], []).append(offset)
    held_out = [o for o in offsets if synsets[o]["hypernyms"] and wordnet_split(synsets[o]) == "test"]
    depth_cache: dict = {}
    rows = []
    for offset in rng.sample(held_out, min(count, len(held_out))):
        parent = synsets[offset]["hypernyms"][0]
        siblings = [s for s in children.get(parent, []) if s != offset]
        partners = [
            parent,
            rng.choice(siblings) if siblings else None,
            rng.choice(by_lexname[synsets[offset]["lexname"]]),
            rng.choice(offsets),
        ]
        for partner in partners:
            if partner is None or partner == offset or synsets[partner]["gloss"] == synsets[offset]["gloss"]:
                continue
            rows.append(
                {
                    "text": synsets[offset]["gloss"],
                    "pair": synsets[partner]["gloss"],
                    "score": round(wu_palmer(synsets, offset, partner, depth_cache), 4),
                    "split": "test",
                    "source": "wordnet-sts",
                }
            )
    return rows


@register("wordnet-sts")
def build_wordnet_sts_manifest(data_dir: Path) -> Path:
    data_dir = Path(data_dir).resolve()
    return write_manifest(data_dir / "wordnet-sts.jsonl", sts_rows(parse_synsets(data_noun(data_dir))))
