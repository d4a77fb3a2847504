"""Tux Paint stamps (Debian ``tuxpaint-stamps-default``, GPL-2): 796 PNG images with an English caption on the first
line of ``<stem>.txt``, some with the object's sound as ``<stem>.ogg``. Categories come from the folder."""

from __future__ import annotations

from pathlib import Path

from ..manifest import split_of, write_manifest
from ..media_files import first_line
from ..packaged import unpack_debian_package
from . import register

PACKAGE = "tuxpaint-stamps-default"


def stamps_folder(data_dir: Path) -> Path:
    """The stamps (``<category>/.../<stem>.png|.ogg|.txt``), unpacked from the Debian package into ``data_dir`` once."""
    return unpack_debian_package(PACKAGE, Path(data_dir).resolve() / PACKAGE) / "usr" / "share" / "tuxpaint" / "stamps"


def translations(path: Path) -> dict[str, str]:
    """The caption's translations from the ``xx.utf8=...`` lines of a stamp's ``<stem>.txt`` (language -> text)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]
    except OSError:
        return {}
    found = {}
    for line in lines:
        language, separator, text = line.partition(".utf8=")
        if separator and text.strip() and language.replace("_", "").replace("@", "").isalnum():
            found[language] = text.strip()
    return found


MULTILINGUAL = ("en", "fr", "es", "de", "pt", "ru", "ja")  # English first: the figure the others are compared with


@register("tuxpaint-multilingual")
def build_tuxpaint_multilingual_manifest(data_dir: Path, languages: tuple[str, ...] = MULTILINGUAL) -> Path:
    """Tux Paint images captioned in several languages (one row per image and language, ``source`` names the
    language: ``tuxpaint-fr``), for multilingual retrieval. A translation identical to the English caption (an
    untranslated stamp) is left out. Splits are the Tux Paint manifest's, so held-out stamps stay held out."""
    data_dir = Path(data_dir).resolve()
    rows = multilingual_rows(stamps_folder(data_dir), data_dir, languages)
    return write_manifest(data_dir / "tuxpaint-multilingual.jsonl", rows)


def multilingual_rows(stamps: Path, data_dir: Path, languages: tuple[str, ...] = MULTILINGUAL) -> list[dict]:
    rows = []
    for text_file in sorted(stamps.rglob("*.txt")):
        english, image = first_line(text_file), text_file.with_suffix(".png")
        if not english or not image.is_file():
            continue
        split = split_of(str(text_file.relative_to(stamps).with_suffix("")))
        texts = {"en": english} | {k: v for k, v in translations(text_file).items() if k in languages and v != english}
        for language in languages:
            if language in texts:
                rows.append(
                    {
                        "image": str(image.relative_to(data_dir)),
                        "text": texts[language],
                        "split": split,
                        "source": f"tuxpaint-{language}",
                        "lang": language,
                    }
                )
    return rows


@register("tuxpaint-translations")
def build_tuxpaint_translations_manifest(data_dir: Path, languages: tuple[str, ...] = MULTILINGUAL) -> Path:
    """Text pairs that tie each language to English: a stamp's translated caption as the query, its English caption
    as the passage (``source`` ``translations-fr``, ...). Cheap text-only steps that carry every language to where
    the English captions already sit beside their images. Tux Paint's split, so held-out stamps stay held out."""
    data_dir = Path(data_dir).resolve()
    rows = translation_pairs(multilingual_rows(stamps_folder(data_dir), data_dir, languages))
    return write_manifest(data_dir / "tuxpaint-translations.jsonl", rows)


def translation_pairs(rows: list[dict]) -> list[dict]:
    """``multilingual_rows`` -> ``{"text": translation, "positive": English caption}`` per image and language."""
    english = {row["image"]: row["text"] for row in rows if row["lang"] == "en"}
    return [
        {
            "text": row["text"],
            "positive": english[row["image"]],
            "split": row["split"],
            "source": f"translations-{row['lang']}",
            "lang": row["lang"],
        }
        for row in rows
        if row["lang"] != "en" and row["image"] in english
    ]


@register("tuxpaint")
def build_tuxpaint_manifest(data_dir: Path) -> Path:
    data_dir = Path(data_dir).resolve()
    stamps = stamps_folder(data_dir)
    rows = []
    for text_file in sorted(stamps.rglob("*.txt")):
        text = first_line(text_file)
        if not text:
            continue
        category = text_file.relative_to(stamps).parts[0]
        split = split_of(str(text_file.relative_to(stamps).with_suffix("")))
        image, sound = text_file.with_suffix(".png"), text_file.with_suffix(".ogg")
        if image.is_file():
            rows.append(
                {
                    "image": str(image.relative_to(data_dir)),
                    "text": text,
                    "split": split,
                    "source": "tuxpaint",
                    "label": category,
                }
            )
        if sound.is_file():
            rows.append(
                {
                    "audio": str(sound.relative_to(data_dir)),
                    "text": text,
                    "split": split,
                    "source": "tuxpaint",
                    "label": category,
                }
            )
    return write_manifest(data_dir / "tuxpaint.jsonl", rows)
