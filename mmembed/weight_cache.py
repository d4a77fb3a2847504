"""A verified on-disk cache for converted weights (the towers here and the backbones in mmembed use it).

Each cached folder holds a manifest with the size and sha256 of every file. Loading checks sizes always and
re-hashes a file only when its mtime changed since the last check (like git's index), so a verified load costs
milliseconds while a truncated or edited file is still caught and the folder rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

MANIFEST = "mmembed_cache_manifest.json"


def cache_root() -> Path:
    """``$MMEMBED_CACHE``, else ``$XDG_CACHE_HOME/mmembed``, else ``~/.cache/mmembed``."""
    if os.environ.get("MMEMBED_CACHE"):
        return Path(os.environ["MMEMBED_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mmembed"


def sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def content_identity(path: Path, head_bytes: int = 8 << 20) -> dict:
    """A source file identified by content, not path: two virtual environments holding the same package share one
    cache entry instead of rebuilding it in turn (name, size and the sha256 of the first 8 MB: milliseconds)."""
    with open(path, "rb") as handle:
        head = hashlib.sha256(handle.read(head_bytes)).hexdigest()
    return {"file": Path(path).name, "size": Path(path).stat().st_size, "sha256_first_8mb": head}


def write_manifest(folder: Path, source: dict) -> None:
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        stat = path.stat()
        files[str(path.relative_to(folder))] = {
            "size": stat.st_size,
            "sha256": sha256_of(path),
            "mtime_ns": stat.st_mtime_ns,
        }
    (folder / MANIFEST).write_text(json.dumps({"source": source, "files": files}, indent=1))


def verify(folder: Path, source: dict) -> str | None:
    """None when the folder is complete and intact for ``source``; otherwise the reason it is not."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return "no manifest (an interrupted conversion?)"
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError:
        return "manifest is corrupt"
    if manifest.get("source") != source:
        return "it was built from another source"
    changed = False
    for name, record in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        stat = path.stat()
        if stat.st_size != record["size"]:
            return f"{name} has {stat.st_size} bytes, expected {record['size']}"
        if stat.st_mtime_ns != record["mtime_ns"]:
            if sha256_of(path) != record["sha256"]:
                return f"{name} does not match its sha256"
            record["mtime_ns"] = stat.st_mtime_ns
            changed = True
    if changed:
        manifest_path.write_text(json.dumps(manifest, indent=1))
    return None


def cached_folder(name: str, source: dict, build: Callable[[Path], None], log: Callable[[str], None] = print) -> Path:
    """Return the verified cache folder ``name``, (re)building it with ``build(tmp_folder)`` when needed.

    The build writes into a temporary sibling folder that is renamed into place only when complete, so a killed
    conversion never leaves a half-written cache behind.
    """
    root = cache_root()
    folder = root / name
    problem = verify(folder, source) if folder.exists() else "not built yet"
    if problem is None:
        return folder
    if folder.exists():
        log(f"mmembed: cache {folder} is unusable ({problem}); rebuilding it")
    else:
        log(f"mmembed: building cache {folder} (once)")
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    try:
        build(tmp)
        write_manifest(tmp, source)
        if folder.exists():
            shutil.rmtree(folder)
        try:
            os.replace(tmp, folder)
        except OSError:
            if verify(folder, source) is not None:  # another process won the race with a bad folder
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder
