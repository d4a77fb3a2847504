"""Fluent 3D emoji (npm ``@lobehub/fluent-emoji-3d@1.1.0``, MIT): 3,391 256-px WebP renders named by codepoint. Names
and categories come from the Google emoji package's ``emoji.json`` (joined by codepoint, the ``fe0f`` variation
selector ignored; skin-tone variants are named "waving hand, dark skin tone"); an emoji keeps the split of its base
emoji in the ``emoji`` source, so a held-out emoji is held out in both styles and every skin tone. Renders with no
name there are left out."""

from __future__ import annotations

import json
from pathlib import Path

from ..manifest import split_of, write_manifest
from ..packaged import unpack_npm_package
from . import register
from .emoji import PACKAGE as GOOGLE_PACKAGE

PACKAGE = "@lobehub/fluent-emoji-3d@1.1.0"
SKIN_TONES = {"1f3fb": "light", "1f3fc": "medium-light", "1f3fd": "medium", "1f3fe": "medium-dark", "1f3ff": "dark"}


def codepoint_key(code: str) -> str:
    return "-".join(part for part in code.lower().split("-") if part != "fe0f")


def fluent_rows(assets: Path, emoji_json: Path, data_dir: Path) -> list[dict]:
    names: dict[str, tuple[str, dict]] = {}  # codepoints -> (name, base entry)
    for entry in json.loads(emoji_json.read_text()):
        if not (entry.get("name") and entry.get("unified")):
            continue
        names[codepoint_key(entry["unified"])] = (entry["name"].lower(), entry)
        for tones, variant in (entry.get("skin_variations") or {}).items():
            described = ", ".join(f"{SKIN_TONES[t]} skin tone" for t in tones.lower().split("-") if t in SKIN_TONES)
            if variant.get("unified") and described:
                names.setdefault(codepoint_key(variant["unified"]), (f"{entry['name'].lower()}, {described}", entry))
    rows = []
    for render in sorted(assets.glob("*.webp")):
        if (found := names.get(codepoint_key(render.stem))) is None:
            continue
        name, entry = found
        rows.append(
            {
                "image": str(render.relative_to(data_dir)),
                "text": name.capitalize() + ".",
                "split": split_of(entry["image"]),
                "source": "fluent-emoji",
                "label": entry.get("category", ""),
            }
        )
    return rows


@register("fluent-emoji")
def build_fluent_emoji_manifest(data_dir: Path) -> Path:
    data_dir = Path(data_dir).resolve()
    google = unpack_npm_package(GOOGLE_PACKAGE, data_dir / "emoji-datasource-google")
    fluent = unpack_npm_package(PACKAGE, data_dir / "fluent-emoji-3d")
    return write_manifest(
        data_dir / "fluent-emoji.jsonl", fluent_rows(fluent / "assets", google / "emoji.json", data_dir)
    )
