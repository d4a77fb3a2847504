"""Index folders of media into a store: idempotent, incremental, resumable.

A point's id comes from its file's content hash and path, so re-indexing never duplicates. Unchanged files (same
size and mtime as stored) are not even read; changed files are re-embedded and their old point removed; files gone
from the folder are removed from the store. Each batch is upserted as soon as it is embedded, so a killed run loses
at most the batch in flight and the next run picks up where it stopped. A bad file is skipped with its reason.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from store import StoredPoint, VectorStore, file_sha256, point_id

from .media_walk import MediaFile, caption_for, walk_media

TEXT_PAYLOAD_CHARS = 2000


@dataclass
class IndexReport:
    root: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"{self.root}: {self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
                 f"{self.removed} removed, {len(self.skipped)} skipped"]
        lines += [f"  skipped {path}: {reason}" for path, reason in self.skipped[:50]]
        if len(self.skipped) > 50:
            lines.append(f"  ... and {len(self.skipped) - 50} more")
        return "\n".join(lines)


def _payload(file: MediaFile, root: Path, sha: str, model_id: str, text: str | None) -> dict:
    payload = {
        "modality": file.kind, "path": str(file.path), "root": str(root), "relative_path": str(file.path.relative_to(root)),
        "caption": caption_for(file.path), "content_sha256": sha, "size": file.size, "mtime_ns": file.mtime_ns,
        "model_id": model_id,
    }
    if text is not None:
        payload["text"] = text[:TEXT_PAYLOAD_CHARS]
    return payload


def _read_input(file: MediaFile):
    """What encode() gets for a file, and its text for the payload (text files only)."""
    if file.kind == "text":
        text = file.path.read_bytes().decode("utf-8")
        return text, text
    return file.path, None


def index_folder(embedder, store: VectorStore, model_id: str, root: str | Path, batch_size: int = 16,
                 progress: bool = True, on_batch=None) -> IndexReport:
    """``on_batch(report)`` is called after each upserted batch (progress hooks, the demo's progress bar)."""
    root = Path(root).expanduser().resolve()
    walk = walk_media(root)
    report = IndexReport(str(root), skipped=list(walk.skipped))
    stored = {p.payload["path"]: p for p in store.scroll({"root": str(root)})}
    todo: list[MediaFile] = []
    for file in walk.files:
        known = stored.get(str(file.path))
        if known and known.payload.get("size") == file.size and known.payload.get("mtime_ns") == file.mtime_ns:
            report.unchanged += 1
        else:
            todo.append(file)
    present = {str(f.path) for f in walk.files}
    gone = [p.id for path, p in stored.items() if path not in present]
    store.delete(gone)
    report.removed = len(gone)

    bar = tqdm(total=len(todo), desc=f"index {root.name}", unit="file", disable=not progress)
    for start in range(0, len(todo), batch_size):
        _index_batch(embedder, store, model_id, root, todo[start : start + batch_size], stored, report)
        bar.update(min(batch_size, len(todo) - start))
        if on_batch:
            on_batch(report)
    bar.close()
    return report


def _index_batch(embedder, store, model_id, root, files, stored, report) -> None:
    inputs, keep = [], []
    for file in files:
        try:
            sha = file_sha256(file.path)
            item, text = _read_input(file)
        except FileNotFoundError:
            report.skipped.append((str(file.path), "vanished while indexing"))
            continue
        except UnicodeDecodeError as error:
            report.skipped.append((str(file.path), f"text file is not UTF-8 ({error.reason} at byte {error.start})"))
            continue
        except OSError as error:
            report.skipped.append((str(file.path), f"cannot read: {error.strerror or error}"))
            continue
        new_id = point_id(sha, str(file.path))
        known = stored.get(str(file.path))
        if known and known.id == new_id:  # touched but not changed: refresh mtime only
            store.upsert([StoredPoint(new_id, store.retrieve([new_id], with_vectors=True)[0].vector,
                                      _payload(file, root, sha, model_id, text))])
            report.unchanged += 1
            continue
        inputs.append(item)
        keep.append((file, sha, new_id, text, known))
    if not inputs:
        return
    failed: dict[int, str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # long text files are truncated by design; the payload keeps the text
        vectors = embedder.encode(inputs, batch_size=len(inputs), instruction="document", show_progress_bar=False,
                                  on_error=lambda failure: failed.__setitem__(failure.index, failure.reason))
    points, replaced = [], []
    for i, (file, sha, new_id, text, known) in enumerate(keep):
        if i in failed or not np.isfinite(vectors[i]).all():
            report.skipped.append((str(file.path), failed.get(i, "could not be embedded")))
            continue
        points.append(StoredPoint(new_id, vectors[i], _payload(file, root, sha, model_id, text)))
        if known:
            replaced.append(known.id)
            report.updated += 1
        else:
            report.added += 1
    store.upsert(points)
    store.delete(replaced)
