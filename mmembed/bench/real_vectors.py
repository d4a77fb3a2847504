"""Real embeddings for store benchmarks at 100k scale: WordNet 3.0 glosses (Debian ``wordnet-base``: 117k synsets)
embedded with the packaged all-MiniLM-L6-v2, computed once and cached (~10 min on 2 CPU cores, seconds on a GPU).

Random Gaussian vectors are the easy case for nothing and the hard case for HNSW; real text embeddings cluster, which
is what recall and latency must be measured on."""

from __future__ import annotations

import hashlib

import numpy as np

from ..data.wordnet import glosses as wordnet_glosses
from ..sentence_models import minilm_embed
from ..weight_cache import cache_root


def wordnet_minilm_vectors(count: int) -> np.ndarray:
    """The first ``count`` glosses as real 384-d vectors, cached on disk: all of WordNet once when asked for more than
    20k (~10 min on 2 CPU cores), else just the prefix asked for (a minute)."""
    glosses = wordnet_glosses()
    if count > len(glosses):
        raise ValueError(f"WordNet has {len(glosses)} glosses; asked for {count}")
    key = hashlib.sha256("\n".join(glosses).encode()).hexdigest()[:12]
    folder = cache_root() / "bench"
    full = folder / f"wordnet-minilm-{key}.npy"
    if full.is_file():
        return np.load(full, mmap_mode="r")[:count]
    path = full if count > 20_000 else folder / f"wordnet-minilm-{key}-first{count}.npy"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        chosen = glosses if path == full else glosses[:count]
        vectors = minilm_embed(chosen, max_length=64)  # glosses are short; 64 keeps the cached vectors as they were
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)
    return np.load(path, mmap_mode="r")[:count]
