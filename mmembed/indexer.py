"""Index folders of media into a store: idempotent, incremental, resumable.

A point's id comes from its file's content hash, path and passage number, so re-indexing never duplicates. Images
and sounds are one point each; text files (prose and code) are split into overlapping passages, one point each,
with their span, for retrieval-augmented generation. Unchanged files (same
size and mtime as stored) are not even read; changed files are re-embedded and their old point removed; files gone
from the folder are removed from the store. Each batch is upserted as soon as it is embedded, so a killed run loses
at most the batch in flight and the next run picks up where it stopped. A bad file is skipped with its reason, and
an earlier version of it leaves the store (a file that turned corrupt is not found by its old content).

Re-indexing converges after any crash: a file counts as unchanged only when the store holds exactly one complete
version of it (every passage of one content hash, at the file's size and mtime); the leftovers of a run killed
between writing a new version and deleting the old one are deleted, and an incomplete version is embedded again.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from store import StoredPoint, VectorStore, file_sha256, point_id

from .data.media_files import caption_for
from .media_walk import MediaFile, walk_media
from .passages import split_passages

TEXT_PAYLOAD_CHARS = 2000


@dataclass
class IndexReport:
    root: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    repaired: int = 0  # files whose stale points (left by a killed run) were deleted
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        repaired = f", {self.repaired} repaired" if self.repaired else ""
        lines = [
            f"{self.root}: {self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed{repaired}, {len(self.skipped)} skipped"
        ]
        lines += [f"  skipped {path}: {reason}" for path, reason in self.skipped[:50]]
        if len(self.skipped) > 50:
            lines.append(f"  ... and {len(self.skipped) - 50} more")
        return "\n".join(lines)


def _payload(
    file: MediaFile, root: Path, sha: str, model_id: str, text: str | None, span=None, passage=0, passages=1
) -> dict:
    payload = {
        "modality": file.kind,
        "path": str(file.path),
        "root": str(root),
        "relative_path": str(file.path.relative_to(root)),
        "caption": caption_for(file.path),
        "content_sha256": sha,
        "size": file.size,
        "mtime_ns": file.mtime_ns,
        "model_id": model_id,
    }
    if text is not None:
        payload |= {
            "text": text[:TEXT_PAYLOAD_CHARS],
            "span": list(span or (0, len(text))),
            "passage": passage,
            "passages": passages,
        }
    return payload


def _units(file: MediaFile) -> list[tuple[object, str | None, tuple[int, int] | None]]:
    """What encode() gets for a file: one media item, or one text passage per unit (with its span)."""
    if file.kind == "text":
        text = file.path.read_bytes().decode("utf-8")
        return [(passage, passage, (start, end)) for start, end, passage in split_passages(text)] or [
            (text, text, (0, len(text)))
        ]
    return [(file.path, None, None)]


def _one_complete_version(points: list[StoredPoint], path: str) -> bool:
    """Do ``points`` hold every passage of one content hash, and nothing else? (Ids follow from the payload.)"""
    sha, passages = points[0].payload.get("content_sha256"), points[0].payload.get("passages", 1)
    return bool(sha) and {p.id for p in points} == {point_id(sha, path, str(i)) for i in range(passages)}


def index_folder(
    embedder,
    store: VectorStore,
    model_id: str,
    root: str | Path,
    batch_size: int = 16,
    progress: bool = True,
    on_batch=None,
    include_hidden: bool = False,
    exclude: list[Path] = (),
) -> IndexReport:
    """``on_batch(report)`` is called after each upserted batch (progress hooks, the demo's progress bar);
    ``exclude``: folders never walked (the store's own); hidden files and folders only with ``include_hidden``."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    root = Path(root).expanduser().resolve()
    walk = walk_media(root, include_hidden=include_hidden, exclude=list(exclude))
    report = IndexReport(str(root), skipped=list(walk.skipped))
    stored: dict[str, list[StoredPoint]] = {}
    for point in store.scroll({"root": str(root)}):
        stored.setdefault(point.payload["path"], []).append(point)
    todo: list[MediaFile] = []
    stale: list[str] = []
    for file in walk.files:
        known = stored.get(str(file.path), [])
        current = [
            p for p in known if p.payload.get("size") == file.size and p.payload.get("mtime_ns") == file.mtime_ns
        ]
        if current and _one_complete_version(current, str(file.path)):
            report.unchanged += 1
            current_ids = {p.id for p in current}
            leftovers = [p.id for p in known if p.id not in current_ids]  # an older version survived a killed run
            if leftovers:
                stale += leftovers
                report.repaired += 1
        else:
            todo.append(file)
    present = {str(f.path) for f in walk.files}
    gone = [p.id for path, points in stored.items() if path not in present for p in points]
    store.delete(gone + stale)
    report.removed = len({path for path in stored if path not in present})

    bar = tqdm(total=len(todo), desc=f"index {root.name}", unit="file", disable=not progress)
    for start in range(0, len(todo), batch_size):
        _index_batch(embedder, store, model_id, root, todo[start : start + batch_size], stored, report)
        bar.update(min(batch_size, len(todo) - start))
        if on_batch:
            on_batch(report)
    bar.close()
    return report


def _index_batch(embedder, store, model_id, root, files, stored, report) -> None:
    inputs, owners, plans, dropped = [], [], [], []

    def skip(file: MediaFile, reason: str) -> None:
        """A file that cannot be indexed now also loses what the store held for it (an older, now wrong version)."""
        known = stored.get(str(file.path), [])
        dropped.extend(p.id for p in known)
        report.skipped.append(
            (str(file.path), reason + ("; its earlier version was removed from the store" if known else ""))
        )

    for file in files:
        try:
            sha = file_sha256(file.path)
            units = _units(file)
        except FileNotFoundError:
            skip(file, "vanished while indexing")
            continue
        except UnicodeDecodeError as error:
            skip(file, f"text file is not UTF-8 ({error.reason} at byte {error.start})")
            continue
        except OSError as error:
            skip(file, f"cannot read: {error.strerror or error}")
            continue
        known = stored.get(str(file.path), [])
        ids = [point_id(sha, str(file.path), str(i)) for i in range(len(units))]
        if known and set(ids) <= {p.id for p in known}:  # touched but not changed: refresh mtime, drop leftovers
            vectors = {p.id: p.vector for p in store.retrieve(ids, with_vectors=True)}
            store.upsert(
                [
                    StoredPoint(pid, vectors[pid], _payload(file, root, sha, model_id, text, span, i, len(units)))
                    for i, (pid, (_, text, span)) in enumerate(zip(ids, units))
                ]
            )
            dropped.extend(p.id for p in known if p.id not in set(ids))
            report.unchanged += 1
            continue
        plans.append((file, sha, ids, units, known))
        for item, _, _ in units:
            inputs.append(item)
            owners.append(len(plans) - 1)
    failed: dict[int, str] = {}
    if inputs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an over-long unit is truncated by design; the payload keeps the text
            vectors = embedder.encode(
                inputs,
                batch_size=min(len(inputs), 32),
                instruction="document",
                show_progress_bar=False,
                on_error=lambda failure: failed.__setitem__(failure.index, failure.reason),
            )
    by_plan: dict[int, list[int]] = {}
    for row, owner in enumerate(owners):
        by_plan.setdefault(owner, []).append(row)
    points = []
    for index, (file, sha, ids, units, known) in enumerate(plans):
        rows = by_plan[index]
        bad = [r for r in rows if r in failed or not np.isfinite(vectors[r]).all()]
        if bad:  # a file is indexed whole or not at all
            skip(file, failed.get(bad[0], "could not be embedded"))
            continue
        points += [
            StoredPoint(pid, vectors[row], _payload(file, root, sha, model_id, text, span, i, len(units)))
            for i, (pid, row, (_, text, span)) in enumerate(zip(ids, rows, units))
        ]
        dropped.extend(p.id for p in known if p.id not in set(ids))
        if known:
            report.updated += 1
        else:
            report.added += 1
    store.upsert(points)  # the new versions first: a crash between these two writes leaves extras, never a gap
    store.delete(dropped)
