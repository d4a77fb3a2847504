"""Google emoji (npm ``emoji-datasource-google@16.0.0``, images Apache-2.0): 1,911 64-px PNGs; the caption is the
emoji's name in words (``"grinning face"``), the label its category."""

from __future__ import annotations

import json
from pathlib import Path

from ..manifest import split_of, write_manifest
from ..packaged import unpack_npm_package
from . import register

PACKAGE = "emoji-datasource-google@16.0.0"


def emoji_rows(package: Path, data_dir: Path) -> list[dict]:
    rows = []
    for entry in json.loads((package / "emoji.json").read_text()):
        image = package / "img" / "google" / "64" / entry["image"]
        if not entry.get("has_img_google", True) or not image.is_file() or not entry.get("name"):
            continue
        rows.append(
            {
                "image": str(image.relative_to(data_dir)),
                "text": entry["name"].lower().capitalize() + ".",
                "split": split_of(entry["image"]),
                "source": "emoji",
                "label": entry.get("category", ""),
            }
        )
    return rows


@register("emoji")
def build_emoji_manifest(data_dir: Path) -> Path:
    data_dir = Path(data_dir).resolve()
    package = unpack_npm_package(PACKAGE, data_dir / "emoji-datasource-google")
    return write_manifest(data_dir / "emoji.jsonl", emoji_rows(package, data_dir))
