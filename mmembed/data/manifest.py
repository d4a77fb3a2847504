"""The manifest: one JSON object per line, the one format every loader writes and every trainer and evaluator reads.

    {"image": "stamps/animals/cat.png", "text": "A cat.", "split": "train", "source": "tuxpaint", "label": "animals"}
    {"audio": "sounds/dog.ogg", "text": "A dog barking.", "split": "test"}
    {"text": "a query", "positive": "a matching passage", "negatives": ["an unrelated passage"], "split": "train"}

Exactly one of ``image`` / ``audio`` / ``text`` is the item; ``text`` is its paired caption when the item is media.
Relative paths are relative to the manifest's folder. ``split`` is ``train``, ``validation`` or ``test``.
Write your own data in this format and every command works on it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

SPLITS = ("train", "validation", "test")


def split_of(key: str, test: float = 0.1, validation: float = 0.0) -> str:
    """A stable split from a key (the same item always lands in the same split)."""
    value = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if value < test else "validation" if value < test + validation else "train"


def check_row(row: dict, line: int) -> dict:
    media = [key for key in ("image", "audio") if key in row]
    if len(media) > 1:
        raise ValueError(f"manifest line {line}: one of image / audio per row, got {media}")
    if not media and not isinstance(row.get("text"), str):
        raise ValueError(f"manifest line {line}: needs an image, audio or text item")
    if row.get("split", "train") not in SPLITS:
        raise ValueError(f"manifest line {line}: split must be one of {SPLITS}, got {row.get('split')!r}")
    return row


def read_manifest(path: str | Path, split: str | None = None) -> list[dict]:
    path = Path(path)
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not JSON ({error.msg})") from None
            row = check_row(row, number)
            for key in ("image", "audio"):
                if key in row and not Path(row[key]).is_absolute():
                    row[key] = str(path.parent / row[key])
            if split is None or row.get("split", "train") == split:
                rows.append(row)
    return rows


def write_manifest(path: str | Path, rows: list[dict]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for number, row in enumerate(rows, 1):
            handle.write(json.dumps(check_row(row, number), ensure_ascii=False) + "\n")
    return path
