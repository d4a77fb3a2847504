"""Split text documents (prose or code) into overlapping passages for retrieval: windows of about ``max_chars``,
cut at a paragraph, line or word boundary where one is near, each overlapping the previous by about ``overlap``."""

from __future__ import annotations


def split_passages(text: str, max_chars: int = 1000, overlap: int = 200) -> list[tuple[int, int, str]]:
    """[(start, end, passage)] covering ``text``; a short text is one passage."""
    if max_chars <= overlap:
        raise ValueError("max_chars must be larger than overlap")
    passages, start, length = [], 0, len(text)
    while start < length:
        end = min(start + max_chars, length)
        if end < length:
            window = text[start:end]
            for separator in ("\n\n", "\n", " "):
                cut = window.rfind(separator, max_chars // 2)
                if cut > 0:
                    end = start + cut + len(separator)
                    break
        passage = text[start:end]
        if passage.strip():
            passages.append((start, end, passage))
        if end >= length:
            break
        next_start = max(end - overlap, start + 1)
        space = text.find(" ", next_start, end)  # begin the overlap on a word boundary
        start = space + 1 if 0 <= space < end - 1 else next_start
    return passages
