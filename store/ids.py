"""Deterministic point ids: the same content at the same place always gets the same id."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path


def point_id(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "\x1f".join(parts)))


def file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
