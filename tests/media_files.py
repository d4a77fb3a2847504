"""Small real media made on the fly: images with PIL, sounds with numpy + soundfile."""
from __future__ import annotations

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
