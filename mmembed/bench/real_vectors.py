"""Real embeddings for store benchmarks at 100k scale: WordNet 3.0 glosses (Debian ``wordnet-base``: 117k synsets)
embedded with the packaged all-MiniLM-L6-v2, computed once and cached (~10 min on 2 CPU cores, seconds on a GPU).

Random Gaussian vectors are the easy case for nothing and the hard case for HNSW; real text embeddings cluster, which
is what recall and latency must be measured on."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from encoders.weight_cache import cache_root

from ..packaged_data import unpack_debian_package
from ..sentence_models import minilm_embed, minilm_folder  # noqa: F401  (re-exported for the benchmarks)

WORDNET_FILES = ("data.noun", "data.verb", "data.adj", "data.adv")


def wordnet_folder() -> Path:
    """/usr/share/wordnet when Debian's wordnet-base is installed, else the package unpacked into the cache."""
    if (Path("/usr/share/wordnet") / "data.noun").is_file():
        return Path("/usr/share/wordnet")
    return unpack_debian_package("wordnet-base", cache_root() / "data" / "wordnet-base") / "usr" / "share" / "wordnet"


def wordnet_glosses() -> list[str]:
    glosses = []
    for name in WORDNET_FILES:
        for line in open(wordnet_folder() / name, encoding="latin-1"):
            if not line.startswith("  ") and "|" in line:
                glosses.append(line.split("|", 1)[1].strip())
    return glosses


def wordnet_minilm_vectors(count: int) -> np.ndarray:
    """``count`` real 384-d vectors (cached on disk after the first computation)."""
    glosses = wordnet_glosses()
    if count > len(glosses):
        raise ValueError(f"WordNet has {len(glosses)} glosses; asked for {count}")
    key = hashlib.sha256("\n".join(glosses).encode()).hexdigest()[:12]
    path = cache_root() / "bench" / f"wordnet-minilm-{key}.npy"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        vectors = minilm_embed(glosses, max_length=64)  # glosses are short; 64 keeps the cached vectors as they were
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)
    return np.load(path, mmap_mode="r")[:count]
