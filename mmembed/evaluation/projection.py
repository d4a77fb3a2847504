"""A 2-D view of the shared space: PCA of the stored vectors, one colour per modality."""
from __future__ import annotations

import numpy as np

COLOURS = {"image": "#1f77b4", "audio": "#d62728", "text": "#2ca02c"}


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    centred = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    return centred @ components[:2].T


def space_figure(vectors: np.ndarray, modalities: list[str]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = pca_2d(np.asarray(vectors, dtype=np.float64))
    figure, axis = plt.subplots(figsize=(6, 5))
    for modality in sorted(set(modalities)):
        mask = np.array([m == modality for m in modalities])
        axis.scatter(points[mask, 0], points[mask, 1], s=10, alpha=0.7, label=f"{modality} ({mask.sum()})",
                     color=COLOURS.get(modality, "#7f7f7f"))
    axis.legend()
    axis.set_title("the shared space (PCA)")
    figure.tight_layout()
    return figure


def plot_space(embedder, rows: list[dict], out_file, limit: int = 300):
    """The shared space of ``embedder`` on up to ``limit`` media rows and their captions, as a PNG (like UniMAE's
    t-SNE figures, with PCA: linear, deterministic, no extra dependency)."""
    from pathlib import Path

    media = [row for row in rows if "image" in row or "audio" in row][:limit]
    if not media:
        raise ValueError("no media rows to draw")
    items = embedder.encode([Path(row.get("image") or row.get("audio")) for row in media], instruction="document", on_error="nan")
    texts = embedder.encode([row["text"] for row in media], instruction="query")
    vectors = np.concatenate([items, texts])
    labels = ["image" if "image" in row else "audio" for row in media] + ["text"] * len(media)
    keep = np.isfinite(vectors).all(axis=1)
    figure = space_figure(vectors[keep], [label for label, k in zip(labels, keep) if k])
    Path(out_file).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out_file, dpi=100)
    return out_file
