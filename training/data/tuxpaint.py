"""Tux Paint stamps (Debian ``tuxpaint-stamps-default``, GPL-2): 796 PNG images with an English caption on the first
line of ``<stem>.txt``, some with the object's sound as ``<stem>.ogg``. Categories come from the folder."""
from __future__ import annotations

from pathlib import Path

from mmembed.packaged_data import unpack_debian_package
from mmembed.manifest import split_of, write_manifest

PACKAGE = "tuxpaint-stamps-default"


def caption(path: Path) -> str | None:
    try:
        first = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return first[0].strip() if first and first[0].strip() else None


def build_tuxpaint_manifest(data_dir: Path) -> Path:
    data_dir = Path(data_dir).resolve()
    root = unpack_debian_package(PACKAGE, data_dir / PACKAGE)
    stamps = root / "usr" / "share" / "tuxpaint" / "stamps"
    rows = []
    for text_file in sorted(stamps.rglob("*.txt")):
        text = caption(text_file)
        if not text:
            continue
        category = text_file.relative_to(stamps).parts[0]
        split = split_of(str(text_file.relative_to(stamps).with_suffix("")))
        image, sound = text_file.with_suffix(".png"), text_file.with_suffix(".ogg")
        if image.is_file():
            rows.append({"image": str(image.relative_to(data_dir)), "text": text, "split": split, "source": "tuxpaint", "label": category})
        if sound.is_file():
            rows.append({"audio": str(sound.relative_to(data_dir)), "text": text, "split": split, "source": "tuxpaint", "label": category})
    return write_manifest(data_dir / "tuxpaint.jsonl", rows)
