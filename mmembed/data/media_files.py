"""Which files are media, and the captions that travel beside them: the one table of file suffixes and the one reader
of sidecar captions, shared by ``encode`` (which decoder to try first), the folder walk and the data sources."""

from __future__ import annotations

from pathlib import Path

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff"})
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif", ".au", ".opus", ".w64", ".caf"})
TEXT_SUFFIXES = frozenset(
    {
        ".txt",
        ".md",
        ".rst",
        ".py",
        ".js",
        ".ts",
        ".java",
        ".go",
        ".rs",
        ".c",
        ".h",
        ".cpp",
        ".hpp",
        ".sh",
        ".toml",
        ".yaml",
        ".yml",
        ".json",
        ".html",
        ".css",
        ".sql",
        ".rb",
        ".kt",
        ".swift",
        ".tex",
    }
)
KINDS = {
    **{s: "image" for s in IMAGE_SUFFIXES},
    **{s: "audio" for s in AUDIO_SUFFIXES},
    **{s: "text" for s in TEXT_SUFFIXES},
}


def first_line(text_file: Path) -> str | None:
    """The first non-blank line of a text file, stripped; None when it is empty or unreadable."""
    try:
        lines = text_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return None
    return lines[0].strip() if lines and lines[0].strip() else None


def is_caption_file(path: Path) -> bool:
    """``<stem>.txt`` beside an image or sound of the same stem is its caption, not a document."""
    return path.suffix == ".txt" and any(path.with_suffix(s).exists() for s in IMAGE_SUFFIXES | AUDIO_SUFFIXES)


def caption_for(path: Path) -> str:
    """The first line of a sibling ``<stem>.txt`` (Tux Paint stamps ship them), else the file name in words."""
    sidecar = path.with_suffix(".txt")
    if path.suffix != ".txt" and sidecar.is_file() and (line := first_line(sidecar)):
        return line
    return path.stem.replace("_", " ").replace("-", " ").strip()
