"""Fashion-MNIST (Debian ``dataset-fashion-mnist``, MIT): 28x28 grey photos of clothing in 10 named classes, the
official 60k train / 10k test split. Written as PNG files with the caption ``"A photo of a <class>."``
(``an ankle boot``) and the class as label, a balanced sample of ``per_class`` train and ``per_class // 5`` test
images per class by default (the full set is 70k files; pass ``per_class=None`` for all of it)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from ..manifest import write_manifest
from ..packaged import unpack_debian_package
from ..wording import a
from . import register

CLASSES = ("T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot")


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzipped): magic (0, 0, dtype 0x08 = uint8, ndim), big-endian dims, then the data."""
    with gzip.open(path, "rb") as handle:
        zero, dtype, ndim = struct.unpack(">HBB", handle.read(4))
        if zero != 0 or dtype != 0x08:
            raise ValueError(f"{path}: not an unsigned-byte IDX file")
        dims = struct.unpack(">" + "I" * ndim, handle.read(4 * ndim))
        return np.frombuffer(handle.read(), dtype=np.uint8).reshape(dims)


def balanced(labels: np.ndarray, per_class: int | None, seed: int = 0) -> list[int]:
    if per_class is None:
        return list(range(len(labels)))
    rng = np.random.default_rng(seed)
    return sorted(int(i) for c in range(len(CLASSES)) for i in rng.permutation(np.flatnonzero(labels == c))[:per_class])


def fashion_rows(images: np.ndarray, labels: np.ndarray, indices: list[int], split: str, data_dir: Path) -> list[dict]:
    folder = data_dir / "fashion-mnist" / split
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in tqdm(indices, desc=f"fashion-mnist {split}", unit="image"):
        path = folder / f"{i:05d}.png"
        if not path.is_file():
            Image.fromarray(images[i], mode="L").save(path)
        name = CLASSES[labels[i]]
        rows.append(
            {
                "image": str(path.relative_to(data_dir)),
                "text": f"A photo of {a(name)}.",
                "split": split,
                "source": "fashion-mnist",
                "label": name,
            }
        )
    return rows


@register("fashion-mnist")
def build_fashion_mnist_manifest(data_dir: Path, per_class: int | None = 200) -> Path:
    data_dir = Path(data_dir).resolve()
    root = (
        unpack_debian_package("dataset-fashion-mnist", data_dir / "dataset-fashion-mnist")
        / "usr/share/datasets/fashion-mnist"
    )
    rows = []
    for split, prefix, count in (("train", "train", per_class), ("test", "t10k", per_class and max(1, per_class // 5))):
        images, labels = (
            read_idx(root / f"{prefix}-images-idx3-ubyte.gz"),
            read_idx(root / f"{prefix}-labels-idx1-ubyte.gz"),
        )
        rows += fashion_rows(images, labels, balanced(labels, count), split, data_dir)
    return write_manifest(data_dir / "fashion-mnist.jsonl", rows)
