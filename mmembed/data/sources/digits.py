"""Handwritten digits (scikit-learn's ``load_digits``, bundled in the wheel; BSD-3): 1,797 digits of 43 writers,
scanned at 8 x 8 pixels in 17 grey levels. Written as 8 x 8 PNG files, the ink white on black as in the scan (and in
MNIST), captioned ``"A handwritten digit: three (3)."`` with the digit's name as label; split by image (10 % test).
Its ten captions all fall outside the final shortcut's check rows (``training.shortcut.is_check``, 10 % of the
captions by their hash), so a map fitted on this source learns every digit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from ..manifest import split_of, write_manifest
from . import register

NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def caption(digit: int) -> str:
    return f"A handwritten digit: {NAMES[digit]} ({digit})."


def scan(pixels: np.ndarray) -> Image.Image:
    """An (8, 8) scan in grey levels 0-16 as an 8-bit grey image, the ink white."""
    levels = np.clip(np.rint(np.asarray(pixels, dtype=np.float64) * 255 / 16), 0, 255).astype(np.uint8)
    return Image.fromarray(levels, mode="L")


def digit_rows(images: np.ndarray, targets: np.ndarray, data_dir: Path) -> list[dict]:
    """``images`` (N, 8, 8) grey levels 0-16 and their digits -> one row per image, its PNG written once."""
    folder = data_dir / "digits"
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (pixels, digit) in enumerate(tqdm(list(zip(images, targets)), desc="digits", unit="image")):
        path = folder / f"{i:04d}.png"
        if not path.is_file():
            scan(pixels).save(path)
        rows.append(
            {
                "image": str(path.relative_to(data_dir)),
                "text": caption(int(digit)),
                "split": split_of(f"digits/{i}"),
                "source": "digits",
                "label": NAMES[int(digit)],
            }
        )
    return rows


@register("digits")
def build_digits_manifest(data_dir: Path) -> Path:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise RuntimeError("the digits source reads scikit-learn's bundled digits: pip install scikit-learn") from None
    data_dir = Path(data_dir).resolve()
    digits = load_digits()
    return write_manifest(data_dir / "digits.jsonl", digit_rows(digits.images, digits.target, data_dir))
