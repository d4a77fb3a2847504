"""``mmembed eval --plot``: each model's shared space on the evaluated rows, as a PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..projection import space_figure


def plot_space(embedder, rows: list[dict], out_file, limit: int = 300):
    """The shared space of ``embedder`` on up to ``limit`` media rows and their captions, as a PNG (like UniMAE's
    t-SNE figures, with PCA: linear, deterministic, no extra dependency)."""
    media = [row for row in rows if "image" in row or "audio" in row][:limit]
    if not media:
        raise ValueError("no media rows to draw")
    items = embedder.encode(
        [Path(row.get("image") or row.get("audio")) for row in media], instruction="document", on_error="nan"
    )
    texts = embedder.encode([row["text"] for row in media], instruction="query")
    vectors = np.concatenate([items, texts])
    labels = ["image" if "image" in row else "audio" for row in media] + ["text"] * len(media)
    keep = np.isfinite(vectors).all(axis=1)
    figure = space_figure(vectors[keep], [label for label, k in zip(labels, keep) if k])
    Path(out_file).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out_file, dpi=100)
    return out_file
