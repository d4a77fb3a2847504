"""Walk folders for the files mmembed indexes, without ever failing on one bad entry.

Symlinked files are followed, symlinked folders are not (so symlink loops cannot trap the walk); unreadable folders,
broken links and files that vanish are reported in ``skipped`` with the reason. Hidden files and folders (``.git``,
``.cache``, a store kept beside the media) are left out unless asked for, and so are the ``exclude`` folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .data.media_files import KINDS, is_caption_file


@dataclass
class MediaFile:
    path: Path
    kind: str
    size: int
    mtime_ns: int


@dataclass
class WalkResult:
    files: list[MediaFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def walk_media(
    root: str | Path,
    kinds: set[str] = frozenset({"image", "audio", "text"}),
    include_hidden: bool = False,
    exclude: list[Path] = (),
) -> WalkResult:
    root = Path(root).expanduser()
    result = WalkResult()
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    excluded = {Path(folder).resolve() for folder in exclude}
    if any(root.resolve().is_relative_to(folder) for folder in excluded):
        return result
    errors = []
    for folder, dirs, names in os.walk(root, followlinks=False, onerror=errors.append):
        dirs[:] = sorted(
            d
            for d in dirs
            if (include_hidden or not d.startswith(".")) and (Path(folder) / d).resolve() not in excluded
        )
        for name in sorted(names):
            if name.startswith(".") and not include_hidden:
                continue
            path = Path(folder) / name
            kind = KINDS.get(path.suffix.lower())
            if kind not in kinds:
                continue
            try:
                stat = path.stat()  # follows a symlinked file
            except FileNotFoundError:
                result.skipped.append((str(path), "broken symlink or vanished"))
                continue
            except OSError as error:
                result.skipped.append((str(path), f"cannot stat: {error.strerror or error}"))
                continue
            if kind == "text" and is_caption_file(path):
                continue
            if not os.access(path, os.R_OK):
                result.skipped.append((str(path), "permission denied"))
                continue
            result.files.append(MediaFile(path, kind, stat.st_size, stat.st_mtime_ns))
    result.skipped += [(str(getattr(e, "filename", "?")), f"cannot list folder: {e.strerror or e}") for e in errors]
    return result
