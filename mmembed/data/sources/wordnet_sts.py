"""Scored text pairs for STS evaluation, derived from WordNet 3.0 nouns (Debian ``wordnet-base``).

Each pair is two synset glosses; its score is the Wu-Palmer similarity of the synsets in the hypernym graph (see
:func:`wu_palmer`). For every sampled synset
four partners span the scale: its hypernym, a sibling (same hypernym), a synset of the same lexicographer file and a
random noun. The test rows sample synsets of the WordNet manifest's test split only, so models trained on the train
split never saw these glosses. A second set of rows, ``split: train``, samples train synsets and pairs them with
train synsets only (another seed): selection rows for choices such as an instruction or a share, never the test.
Rows: ``{"text": gloss, "pair": gloss, "score": 0..1, "split": "test" | "train"}``."""

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


def sts_rows(synsets: dict, count: int = 500, seed: int = 0, split: str = "test") -> list[dict]:
    """``count`` synsets of ``split``, each with up to four partners; train rows take partners of the train split
    only (test rows keep the partners they always had, from any split, so the held-out set never changes)."""
    rng = random.Random(seed)
    offsets = sorted(synsets)
    children: dict[str, list[str]] = {}
    by_lexname: dict[str, list[str]] = {}
    for offset, synset in synsets.items():
        for parent in synset["hypernyms"]:
            children.setdefault(parent, []).append(offset)
        by_lexname.setdefault(synset["lexname"], []).append(offset)
    sampled = [o for o in offsets if synsets[o]["hypernyms"] and wordnet_split(synsets[o]) == split]
    depth_cache: dict = {}
    rows = []
    for offset in rng.sample(sampled, min(count, len(sampled))):
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
            if split != "test" and wordnet_split(synsets[partner]) != split:
                continue
            rows.append(
                {
                    "text": synsets[offset]["gloss"],
                    "pair": synsets[partner]["gloss"],
                    "score": round(wu_palmer(synsets, offset, partner, depth_cache), 4),
                    "split": split,
                    "source": "wordnet-sts",
                }
            )
    return rows


@register("wordnet-sts")
def build_wordnet_sts_manifest(data_dir: Path) -> Path:
    data_dir = Path(data_dir).resolve()
    synsets = parse_synsets(data_noun(data_dir))
    rows = sts_rows(synsets) + sts_rows(synsets, seed=1, split="train")
    return write_manifest(data_dir / "wordnet-sts.jsonl", rows)
