"""Small real media made on the fly: images with PIL, sounds with numpy + soundfile."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import soundfile
from PIL import Image, ImageDraw


def square(color: str, size: int = 64, offset: int = 0) -> Image.Image:
    image = Image.new("RGB", (size, size), "white")
    ImageDraw.Draw(image).rectangle([12 + offset, 12 + offset, 48 + offset, 48 + offset], fill=color)
    return image


def circle(color: str, size: int = 64) -> Image.Image:
    image = Image.new("RGB", (size, size), "white")
    ImageDraw.Draw(image).ellipse([12, 12, 52, 52], fill=color)
    return image


def tone(seconds: float = 1.0, rate: int = 16_000, hz: float = 440.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    wave = (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)
    return np.stack([wave] * channels, axis=1) if channels > 1 else wave


def write_audio(path: Path, seconds: float = 1.0, rate: int = 16_000, channels: int = 1, hz: float = 440.0) -> Path:
    soundfile.write(str(path), tone(seconds, rate, hz, channels), rate)
    return path


def png_base64(size: int = 64) -> str:
    buffer = io.BytesIO()
    square("red", size).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def wav_base64(seconds: float, rate: int = 2_000) -> str:
    """Silence as a base64 WAV (a low rate keeps long clips small in a request body)."""
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(int(rate * seconds), dtype=np.float32), rate, format="WAV")
    return base64.b64encode(buffer.getvalue()).decode()


COLOURS = ["red", "blue", "green", "yellow", "purple", "orange", "black", "pink"]


def shape_rows(folder: Path, source: str = "shapes") -> list[dict]:
    """48 captioned PNGs (8 colours x square / circle x 3 sizes) written to ``folder``, as manifest rows."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for colour in COLOURS:
        for shape in (square, circle):
            for size, offset in (("small", 0), ("big", 6), ("shifted", 10)):
                image = shape(colour, offset=offset) if shape is square else shape(colour, size=64 + offset)
                path = folder / f"{shape.__name__}-{colour}-{size}.png"
                image.save(path)
                rows.append({"image": str(path), "text": f"A {size} {colour} {shape.__name__}.", "source": source})
    return rows


def tone_rows(folder: Path, source: str = "tones", count: int = 12, lowest: int = 200) -> list[dict]:
    """``count`` captioned sine tones (0.3 s, 200 Hz apart from ``lowest``) written to ``folder``, as manifest rows."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(count):
        hz = lowest + 200 * i
        path = write_audio(folder / f"tone-{hz}.wav", seconds=0.3, hz=hz)
        rows.append({"audio": str(path), "text": f"A tone of {hz} hertz.", "source": source})
    return rows


def square_rows(folder: Path, source: str = "shapes") -> list[dict]:
    """Four captioned squares (train split) written to ``folder``, as manifest rows relative to it."""
    rows = []
    for i, colour in enumerate(COLOURS[:4]):
        square(colour).save(folder / f"s{i}.png")
        rows.append({"image": f"s{i}.png", "text": f"A {colour} square.", "split": "train", "source": source})
    return rows
