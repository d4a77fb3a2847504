"""Tabler icons (npm ``@tabler/icons@3.51.0``, MIT): 5,000+ line icons with names, categories and tags, rasterised
from their SVGs with cairosvg (``pip install cairosvg``; it needs the system's libcairo). The caption is the name in
words with the first tags (``"An icon: abacus (abacus, calculate, counting)."``), the label the category; outline and,
where there is one, filled style are two images of one icon, in one split."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image
from tqdm.auto import tqdm

from ..manifest import split_of, write_manifest
from ..packaged import unpack_npm_package
from . import register

PACKAGE = "@tabler/icons@3.51.0"
SIZE = 64


def draw_svg(svg: bytes, size: int = SIZE) -> Image.Image:
    """An SVG icon's text drawn black on white at ``size`` px."""
    try:
        import cairosvg
    except (ImportError, OSError) as error:
        raise RuntimeError(
            f"the tabler-icons source rasterises SVG with cairosvg: pip install cairosvg ({error})"
        ) from None
    drawing = Image.open(io.BytesIO(cairosvg.svg2png(bytestring=svg, output_width=size, output_height=size)))
    image = Image.new("RGB", drawing.size, "white")
    image.paste(drawing, mask=drawing.convert("RGBA").split()[-1])
    return image


def rasterise(svg: Path, out: Path, size: int = SIZE) -> None:
    """An SVG icon file drawn black on white at ``size`` px, as PNG."""
    image = draw_svg(svg.read_bytes(), size)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out)


def caption(entry: dict, tags: int = 3) -> str:
    name = entry["name"].replace("-", " ")
    extra = [str(tag) for tag in entry.get("tags", []) if str(tag) != entry["name"]][:tags]
    return f"An icon: {name} ({', '.join(extra)})." if extra else f"An icon: {name}."


def icon_rows(package: Path, data_dir: Path, size: int = SIZE) -> list[dict]:
    entries = json.loads((package / "icons.json").read_text())
    rows = []
    for key, entry in tqdm(sorted(entries.items()), desc="tabler icons", unit="icon"):
        for style in ("outline", "filled"):
            svg = package / "icons" / style / f"{key}.svg"
            if style not in entry.get("styles", {}) or not svg.is_file():
                continue
            png = data_dir / "tabler-icons" / style / f"{key}.png"
            if not png.is_file():
                rasterise(svg, png, size)
            rows.append(
                {
                    "image": str(png.relative_to(data_dir)),
                    "text": caption(entry),
                    "split": split_of(key),
                    "source": "tabler-icons",
                    "label": entry.get("category") or "other",
                    "style": style,
                }
            )
    return rows


@register("tabler-icons")
def build_tabler_icons_manifest(data_dir: Path) -> Path:
    data_dir = Path(data_dir).resolve()
    package = unpack_npm_package(PACKAGE, data_dir / "tabler-icons-package")
    return write_manifest(data_dir / "tabler-icons.jsonl", icon_rows(package, data_dir))
