"""Image and audio throughput of ``Embedder.encode`` against the towers + backbone forward alone, in the same run.

The ceiling gets everything prepared outside the clock: decoded and preprocessed pixels (or log-mel windows) and
pre-collated token batches; it times only tower forward + projector + decoder. ``encode()`` is given decoded PIL
images / sample arrays and does all the rest (checks, preprocessing, batching, pooling, order)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw

from ..batching import collate, length_sorted_batches
from .timing import best_of


def synthetic_images(count: int, size: int = 256, seed: int = 0) -> list[Image.Image]:
    rng = random.Random(seed)
    images = []
    for _ in range(count):
        image = Image.new("RGB", (size, size), tuple(rng.randrange(256) for _ in range(3)))
        draw = ImageDraw.Draw(image)
        for _ in range(3):
            box = sorted(rng.randrange(size) for _ in range(2)), sorted(rng.randrange(size) for _ in range(2))
            shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
            shape([box[0][0], box[1][0], box[0][1], box[1][1]], fill=tuple(rng.randrange(256) for _ in range(3)))
        images.append(image)
    return images


def synthetic_clips(count: int, seconds: float, rate: int = 16_000, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    return [
        (0.2 * np.sin(2 * np.pi * rng.uniform(100, 2000) * t) + 0.02 * rng.standard_normal(t.shape)).astype(np.float32)
        for _ in range(count)
    ]


@dataclass
class MediaThroughput:
    kind: str
    items: int
    seconds_of_audio: float
    encode_s: float
    ceiling_s: float

    def report(self) -> str:
        unit, amount = ("audio-s/s", self.seconds_of_audio) if self.kind == "audio" else ("images/s", self.items)
        return (
            f"{self.kind}: encode() {amount / self.encode_s:8.2f} {unit}   towers + backbone alone "
            f"{amount / self.ceiling_s:8.2f} {unit}   "
            f"encode / ceiling = {self.ceiling_s / self.encode_s:.3f} (target >= 0.9)"
        )


def fresh_encode(embedder, inputs: list, batch_size: int):
    """``encode`` as for inputs never seen: the process remembers transcripts, so each repeat forgets them first."""
    from encoders.whisper_transcriber import forget_transcripts

    forget_transcripts()
    return embedder.encode(inputs, batch_size=batch_size, show_progress_bar=False)


def measure_media(
    embedder, kind: str, items: int = 32, batch_size: int = 16, seconds: float = 5.0, repeats: int = 3
) -> MediaThroughput:
    modalities = embedder.modalities
    if kind == "image":
        inputs = synthetic_images(items)
        tower = modalities.tower("image")
        pixels = torch.stack([tower.preprocess(image) for image in inputs]).to(embedder.device)
        features = modalities.image_features(inputs)
        encode_inputs = inputs
    else:
        clips = synthetic_clips(items, seconds)
        tower = modalities.tower("audio")
        waves = [torch.from_numpy(clip) for clip in clips]
        mels = tower.log_mel(torch.stack(waves).to(embedder.device))
        features = modalities.audio_features(waves)
        encode_inputs = [(clip, 16_000) for clip in clips]
    sequences = embedder.sequences.build([(None, kind, f) for f in features], None)
    plan = length_sorted_batches([len(s.ids) for s in sequences], batch_size)
    batches = [
        (indices, collate([sequences[i] for i in indices], embedder.pad_id).to(embedder.device)) for indices in plan
    ]

    def ceiling():
        for indices, batch in batches:
            index = torch.tensor(indices, device=embedder.device)
            if kind == "image":
                tower(pixels[index])
            else:
                tower.encoder(mels[index])
            embedder.embed_batch(batch)

    with torch.inference_mode():
        encode_s = best_of(lambda: fresh_encode(embedder, encode_inputs, batch_size), repeats)
        ceiling_s = best_of(ceiling, repeats)
    return MediaThroughput(kind, items, items * seconds if kind == "audio" else 0.0, encode_s, ceiling_s)
