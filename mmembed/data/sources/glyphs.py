"""Unicode glyphs (Debian ``fonts-dejavu-core``, free licence): symbols drawn in several typefaces, captioned with
their Unicode names (``"Black chess knight."``, ``"Rightwards arrow."``), the Unicode block as label. Arrows,
mathematical operators, geometric shapes, miscellaneous symbols, dingbats, Greek letters and more: a source of
drawn symbols that no training recipe uses (a held-out set), rendered with Pillow.

A character is drawn in each typeface that has it (a missing glyph renders as the font's placeholder box, compared
pixel for pixel). The split follows the character, so a held-out symbol is held out in every typeface."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont
from tqdm.auto import tqdm

from ..manifest import split_of, write_manifest
from ..packaged import unpack_debian_package
from . import register

PACKAGE = "fonts-dejavu-core"
TYPEFACES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf")
BLOCKS = {  # (first, last) code point -> label
    (0x0391, 0x03C9): "greek letters",
    (0x2190, 0x21FF): "arrows",
    (0x2200, 0x22FF): "mathematical operators",
    (0x2300, 0x23FF): "technical symbols",
    (0x25A0, 0x25FF): "geometric shapes",
    (0x2600, 0x26FF): "miscellaneous symbols",
    (0x2700, 0x27BF): "dingbats",
}
SIZE = 64


def render(character: str, font: ImageFont.FreeTypeFont, size: int = SIZE) -> Image.Image:
    """The character in black, centred on a white square."""
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.textbbox((0, 0), character, font=font)
    draw.text(
        ((size - (right - left)) / 2 - left, (size - (bottom - top)) / 2 - top), character, fill="black", font=font
    )
    return image


def drawn(character: str, font: ImageFont.FreeTypeFont, placeholder: Image.Image) -> bool:
    """Does the font draw this character (not nothing, not its placeholder box)?"""
    image = render(character, font)
    return image.convert("L").getextrema()[0] < 128 and ImageChops.difference(image, placeholder).getbbox() is not None


def glyph_characters(fonts: list[ImageFont.FreeTypeFont]) -> list[tuple[str, str, str, list[int]]]:
    """(character, its Unicode name, block label, the fonts that draw it) for every named character one font draws."""
    placeholders = [render("\U0010fffd", font) for font in fonts]  # a private-use code point: no font has it
    found = []
    for (first, last), label in BLOCKS.items():
        for point in range(first, last + 1):
            character = chr(point)
            name = unicodedata.name(character, "")
            drawing = [i for i, (f, p) in enumerate(zip(fonts, placeholders)) if name and drawn(character, f, p)]
            if drawing:
                found.append((character, name, label, drawing))
    return found


def glyph_rows(fonts_folder: Path, data_dir: Path, typefaces: tuple[str, ...] = TYPEFACES) -> list[dict]:
    fonts = [ImageFont.truetype(str(fonts_folder / name), 44) for name in typefaces]
    rows = []
    for character, name, label, drawing in tqdm(glyph_characters(fonts), desc="glyphs", unit="character"):
        split = split_of(name)
        for typeface, font in [(typefaces[i], fonts[i]) for i in drawing]:
            path = data_dir / "glyphs" / Path(typeface).stem / f"{ord(character):05x}.png"
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                render(character, font).save(path)
            caption = name.lower().capitalize() + "."
            rows.append(
                {
                    "image": str(path.relative_to(data_dir)),
                    "text": caption,
                    "split": split,
                    "source": "glyphs",
                    "label": label,
                    "typeface": Path(typeface).stem,
                }
            )
    return rows


@register("glyphs")
def build_glyphs_manifest(data_dir: Path) -> Path:
    data_dir = Path(data_dir).resolve()
    fonts = unpack_debian_package(PACKAGE, data_dir / PACKAGE) / "usr" / "share" / "fonts" / "truetype" / "dejavu"
    return write_manifest(data_dir / "glyphs.jsonl", glyph_rows(fonts, data_dir))
