"""WordNet 3.0 (Debian ``wordnet-base``): where its files are, its noun synsets and the split rule every
WordNet-derived set shares (the ``wordnet`` and ``wordnet-sts`` sources, the RAG evaluation's questions, the store
benchmark's glosses), so a held-out gloss stays held out everywhere."""

from __future__ import annotations

from pathlib import Path

from ..weight_cache import cache_root
from .manifest import split_of
from .packaged import unpack_debian_package

PACKAGE = "wordnet-base"
DATA_FILES = ("data.noun", "data.verb", "data.adj", "data.adv")


def wordnet_folder(data_dir: Path | None = None) -> Path:
    """The folder of WordNet's ``data.*`` files: the package unpacked into ``data_dir`` when given (a data source's
    own copy); else ``/usr/share/wordnet`` when Debian's wordnet-base is installed, else unpacked into the cache."""
    if data_dir is None and (Path("/usr/share/wordnet") / "data.noun").is_file():
        return Path("/usr/share/wordnet")
    target = Path(data_dir) / PACKAGE if data_dir is not None else cache_root() / "data" / PACKAGE
    return unpack_debian_package(PACKAGE, target) / "usr" / "share" / "wordnet"


def data_noun(data_dir: Path | None = None) -> Path:
    return wordnet_folder(data_dir) / "data.noun"


def glosses(folder: Path | None = None) -> list[str]:
    """Every synset's gloss of all four parts of speech, in file order."""
    folder = folder or wordnet_folder()
    found = []
    for name in DATA_FILES:
        for line in open(folder / name, encoding="latin-1"):
            if not line.startswith("  ") and "|" in line:
                found.append(line.split("|", 1)[1].strip())
    return found


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
        synsets[parts[0]] = {
            "lemma": parts[4].replace("_", " "),
            "gloss": gloss.split(";")[0].strip(),
            "lexname": parts[1],
            "hypernyms": hypernyms,
        }
    return synsets


def parse_data_noun(path: Path) -> list[dict]:
    """[{lemma, gloss, lexname, hypernyms}] in file order."""
    return list(parse_synsets(path).values())


def wordnet_split(entry: dict) -> str:
    """The split of a synset, shared by every WordNet-derived source (a held-out gloss stays held out)."""
    return split_of(entry["lemma"] + entry["gloss"])
