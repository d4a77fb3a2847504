"""A 2-D picture of vectors in the shared space: PCA, one colour per modality (evaluation and the demo draw with it)."""

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
        axis.scatter(
            points[mask, 0],
            points[mask, 1],
            s=10,
            alpha=0.7,
            label=f"{modality} ({mask.sum()})",
            color=COLOURS.get(modality, "#7f7f7f"),
        )
    axis.legend()
    axis.set_title("the shared space (PCA)")
    figure.tight_layout()
    return figure
