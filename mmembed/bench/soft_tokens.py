"""How many soft tokens per image / audio clip? A measurement, not a guess.

For each candidate count K, on synthetic tasks whose labels need *where* (image: shape x quadrant, 12 classes) or
*when* (audio: which of two pitches comes first, 8 classes), it reports the leave-one-out 1-NN accuracy of the
K pooled tower features (flattened, cosine) - what the projector can at best pass on - and encode() throughput at K.
"""

from __future__ import annotations

import random
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

SHAPES = ("square", "circle", "triangle")


def shape_task(per_class: int = 8, size: int = 224, seed: int = 0) -> tuple[list[Image.Image], np.ndarray]:
    rng = random.Random(seed)
    images, labels = [], []
    for shape_index, shape in enumerate(SHAPES):
        for quadrant in range(4):
            for _ in range(per_class):
                image = Image.new("RGB", (size, size), tuple(rng.randrange(150, 256) for _ in range(3)))
                draw = ImageDraw.Draw(image)
                half = size // 2
                extent = rng.randrange(half // 3, half - 8)
                x0 = (quadrant % 2) * half + rng.randrange(0, half - extent)
                y0 = (quadrant // 2) * half + rng.randrange(0, half - extent)
                colour = tuple(rng.randrange(0, 120) for _ in range(3))
                if shape == "square":
                    draw.rectangle([x0, y0, x0 + extent, y0 + extent], fill=colour)
                elif shape == "circle":
                    draw.ellipse([x0, y0, x0 + extent, y0 + extent], fill=colour)
                else:
                    draw.polygon([(x0, y0 + extent), (x0 + extent, y0 + extent), (x0 + extent // 2, y0)], fill=colour)
                images.append(image)
                labels.append(shape_index * 4 + quadrant)
    return images, np.array(labels)


def pitch_order_task(per_class: int = 6, seconds: float = 4.0, rate: int = 16_000, seed: int = 0):
    rng = np.random.default_rng(seed)
    pairs = [(200, 800), (300, 1200), (400, 1600), (250, 2000)]
    clips, labels = [], []
    t = np.arange(int(seconds * rate / 2)) / rate
    for pair_index, (low, high) in enumerate(pairs):
        for order in range(2):
            for _ in range(per_class):
                a, b = (low, high) if order == 0 else (high, low)
                jitter = rng.uniform(0.97, 1.03)
                clip = np.concatenate([np.sin(2 * np.pi * a * jitter * t), np.sin(2 * np.pi * b * jitter * t)])
                clips.append((0.2 * clip + 0.01 * rng.standard_normal(clip.shape)).astype(np.float32))
                labels.append(pair_index * 2 + order)
    return clips, np.array(labels)


def loo_1nn_accuracy(features: torch.Tensor, labels: np.ndarray) -> float:
    flat = F.normalize(features.flatten(1), dim=-1)
    sims = flat @ flat.T
    sims.fill_diagonal_(-2)
    return float((labels[sims.argmax(dim=1).numpy()] == labels).mean())


def measure_soft_tokens(embedder, kind: str, counts: list[int]) -> list[dict]:
    """Rows of {tokens, accuracy, items_per_s} for one modality of ``embedder`` (its tower is reused)."""
    from encoders.grid_pooling import pool_frames, pool_grid

    tower = embedder.modalities.tower(kind)
    rows = []
    if kind == "image":
        inputs, labels = shape_task()
        with torch.no_grad():
            grid = tower.grid_tokens(torch.stack([tower.preprocess(i) for i in inputs]))
    else:
        inputs, labels = pitch_order_task()
        with torch.no_grad():
            mels = tower.log_mel(torch.stack([torch.from_numpy(c) for c in inputs]))
            states = tower.encoder(mels).last_hidden_state
            keep = int(np.ceil(len(inputs[0]) / 320))
    for count in counts:
        if kind == "image":
            features = pool_grid(grid, tower.grid, count)
        else:
            features = torch.stack([pool_frames(s[:keep], count) for s in states])
        encode_inputs = inputs[:16] if kind == "image" else [(c, 16_000) for c in inputs[:8]]
        with embedder.overrides(num_tokens={kind: count}):
            start = time.perf_counter()
            embedder.encode(encode_inputs, batch_size=16)
            elapsed = time.perf_counter() - start
        rows.append(
            {
                "tokens": count,
                "accuracy": loo_1nn_accuracy(features, labels),
                "items_per_s": len(encode_inputs) / elapsed,
            }
        )
    return rows
