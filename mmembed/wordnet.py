"""WordNet 3.0's noun file (``data.noun``): its synsets and the split rule every WordNet-derived set shares, the
training sources (training/data/wordnet*.py) and the RAG bench's questions alike, so a held-out gloss stays held out."""
from __future__ import annotations

from pathlib import Path

from .manifest import split_of


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
