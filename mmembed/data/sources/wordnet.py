"""WordNet 3.0 nouns (Debian ``wordnet-base``): text pairs for text-to-text training, ``"What is <lemma>?"`` against
the synset's gloss, with the gloss of another synset of the same lexicographer file as a hard negative."""

from __future__ import annotations

import random
from pathlib import Path

from ..manifest import write_manifest
from ..wordnet import data_noun, parse_data_noun, wordnet_split
from . import register


def wordnet_rows(entries: list[dict], seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    by_lexname: dict[str, list[dict]] = {}
    for entry in entries:
        by_lexname.setdefault(entry["lexname"], []).append(entry)
    rows = []
    for entry in entries:
        pool = by_lexname[entry["lexname"]]
        negative = pool[rng.randrange(len(pool))]
        row = {
            "text": f"What is {entry['lemma']}?",
            "positive": f"{entry['lemma']}: {entry['gloss']}.",
            "split": wordnet_split(entry),
            "source": "wordnet",
            "label": entry["lexname"],
        }
        if negative is not entry:
            row["negatives"] = [f"{negative['lemma']}: {negative['gloss']}."]
        rows.append(row)
    return rows


@register("wordnet")
def build_wordnet_manifest(data_dir: Path) -> Path:
    data_dir = Path(data_dir).resolve()
    return write_manifest(data_dir / "wordnet.jsonl", wordnet_rows(parse_data_noun(data_noun(data_dir))))
