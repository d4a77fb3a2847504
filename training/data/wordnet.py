"""WordNet 3.0 nouns (Debian ``wordnet-base``): text pairs for text-to-text training, ``"What is <lemma>?"`` against
the synset's gloss, with the gloss of another synset of the same lexicographer file as a hard negative."""
from __future__ import annotations

import random
from pathlib import Path

from mmembed.manifest import split_of, write_manifest
from mmembed.packaged_data import unpack_debian_package


def parse_synsets(path: Path) -> dict[str, dict]:
    """{offset: {lemma, gloss, lexname, hypernyms}} from WordNet's data.noun (offset lex_filenum ss_type w_cnt word
    lex_id ... p_cnt [pointer_symbol offset pos source/target]... | gloss); pointers ``@`` and ``@i`` are hypernyms."""
    synsets = {}
    for line in open(path, encoding="latin-1"):
        if line.startswith("  ") or "|" not in line:
            continue
        fields, gloss = line.split("|", 1)
        parts = fields.split()
        pointers = parts[4 + 2 * int(parts[3], 16) + 1 :]  # after the words and the pointer count: groups of four
        hypernyms = [pointers[i + 1] for i in range(0, len(pointers) - 3, 4) if pointers[i] in ("@", "@i")]
        synsets[parts[0]] = {"lemma": parts[4].replace("_", " "), "gloss": gloss.split(";")[0].strip(),
                             "lexname": parts[1], "hypernyms": hypernyms}
    return synsets


def parse_data_noun(path: Path) -> list[dict]:
    """[{lemma, gloss, lexname, hypernyms}] in file order."""
    return list(parse_synsets(path).values())


def wordnet_split(entry: dict) -> str:
    """The split of a synset, shared by every WordNet-derived source (a held-out gloss stays held out)."""
    return split_of(entry["lemma"] + entry["gloss"])


def data_noun(data_dir: Path) -> Path:
    root = unpack_debian_package("wordnet-base", data_dir / "wordnet-base")
    return root / "usr" / "share" / "wordnet" / "data.noun"


def wordnet_rows(entries: list[dict], seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    by_lexname: dict[str, list[dict]] = {}
    for entry in entries:
        by_lexname.setdefault(entry["lexname"], []).append(entry)
    rows = []
    for entry in entries:
        pool = by_lexname[entry["lexname"]]
        negative = pool[rng.randrange(len(pool))]
        row = {"text": f"What is {entry['lemma']}?", "positive": f"{entry['lemma']}: {entry['gloss']}.",
               "split": wordnet_split(entry), "source": "wordnet", "label": entry["lexname"]}
        if negative is not entry:
            row["negatives"] = [f"{negative['lemma']}: {negative['gloss']}."]
        rows.append(row)
    return rows


def build_wordnet_manifest(data_dir: Path) -> Path:
    data_dir = Path(data_dir).resolve()
    return write_manifest(data_dir / "wordnet.jsonl", wordnet_rows(parse_data_noun(data_noun(data_dir))))
