"""The default media collection for the demo: Tux Paint stamps (images and object sounds, with captions as sibling
<stem>.txt files, which the indexer reads as captions), from the ``tuxpaint`` data source, linked into one folder."""

from __future__ import annotations

import os
from pathlib import Path

from mmembed.data.sources.tuxpaint import stamps_folder


def default_collection(data_dir: Path) -> Path:
    root = stamps_folder(data_dir)
    target = data_dir / "demo-collection"
    if (target / ".complete").is_file():
        return target
    for caption in root.rglob("*.txt"):
        for suffix in (".png", ".ogg"):
            media = caption.with_suffix(suffix)
            if media.is_file():
                folder = target / caption.parent.relative_to(root)
                folder.mkdir(parents=True, exist_ok=True)
                for source in (media, caption):
                    link = folder / source.name
                    if not link.exists():
                        os.symlink(source, link)
    (target / ".complete").touch()
    return target
