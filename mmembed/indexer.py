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

    def record(self, path: str, kind: str, reason: str | None = None) -> None:
        """Count one file's :func:`outcome`."""
        if kind == "skipped":
            self.skipped.append((path, reason or "could not be embedded"))
        elif kind in ("added", "updated", "unchanged"):
            setattr(self, kind, getattr(self, kind) + 1)
        else:
            raise ValueError(f"unknown indexing outcome {kind!r}")

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


@dataclass
class FileWork:
    """One file on its way into the store: read and hashed (``units`` are what ``encode`` gets, one per point), or
    the reason it could not be read. ``known_ids``: the points the store held for its path when the run began."""

    file: MediaFile
    known_ids: frozenset[str] = frozenset()
    sha: str | None = None
    ids: list[str] = field(default_factory=list)
    units: list[tuple[object, str | None, tuple[int, int] | None]] = field(default_factory=list)
    error: str | None = None

    @property
    def unchanged(self) -> bool:
        """Touched but not changed (same content at the same path): only its payload needs refreshing."""
        return self.error is None and bool(self.known_ids) and set(self.ids) <= self.known_ids


@dataclass
class IndexPlan:
    """What a run has to do, decided from the walk and the store alone (no file is read): ``todo`` files to read,
    hash and maybe embed; unchanged, gone and stale points already counted in (and removed from) the store."""

    root: Path
    report: IndexReport
    todo: list[FileWork]


def plan_index(
    store: VectorStore, root: str | Path, include_hidden: bool = False, exclude: list[Path] = ()
) -> IndexPlan:
    """Walk ``root``, compare with the store, delete the points of files gone and the leftovers of killed runs."""
    root = Path(root).expanduser().resolve()
    walk = walk_media(root, include_hidden=include_hidden, exclude=list(exclude))
    report = IndexReport(str(root), skipped=list(walk.skipped))
    stored: dict[str, list[StoredPoint]] = {}
    for point in store.scroll({"root": str(root)}):
        stored.setdefault(point.payload["path"], []).append(point)
    todo: list[FileWork] = []
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
            todo.append(FileWork(file, frozenset(p.id for p in known)))
    present = {str(f.path) for f in walk.files}
    gone = [p.id for path, points in stored.items() if path not in present for p in points]
    store.delete(gone + stale)
    report.removed = len({path for path in stored if path not in present})
    return IndexPlan(root, report, todo)


def read_work(work: FileWork) -> FileWork:
    """Hash the file and cut it into units (a text file into passages); a file that cannot be read gets its reason."""
    try:
        work.sha = file_sha256(work.file.path)
        work.units = _units(work.file)
    except FileNotFoundError:
        work.error = "vanished while indexing"
    except UnicodeDecodeError as error:
        work.error = f"text file is not UTF-8 ({error.reason} at byte {error.start})"
    except OSError as error:
        work.error = f"cannot read: {error.strerror or error}"
    else:
        work.ids = [point_id(work.sha, str(work.file.path), str(i)) for i in range(len(work.units))]
    return work


def embed_works(embedder, works: list[FileWork]) -> list[tuple[np.ndarray | None, str | None]]:
    """(vectors of its units, None) or (None, reason) per work; read errors and unchanged files are not embedded.
    A file is embedded whole or not at all."""
    inputs, owners = [], []
    for index, work in enumerate(works):
        if work.error is None and not work.unchanged:
            inputs += [item for item, _, _ in work.units]
            owners += [index] * len(work.units)
    failed: dict[int, str] = {}
    vectors = np.empty((0, 0))
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
    rows: dict[int, list[int]] = {}
    for row, owner in enumerate(owners):
        rows.setdefault(owner, []).append(row)
    results: list[tuple[np.ndarray | None, str | None]] = []
    for index, work in enumerate(works):
        if index not in rows:
            results.append((None, work.error))
            continue
        bad = [r for r in rows[index] if r in failed or not np.isfinite(vectors[r]).all()]
        results.append((None, failed.get(bad[0], "could not be embedded")) if bad else (vectors[rows[index]], None))
    return results


def outcome(work: FileWork, vectors: np.ndarray | None, reason: str | None) -> tuple[str, str | None]:
    """What committing a file does: ``added``, ``updated``, ``unchanged`` or ``skipped`` (with the reason)."""
    if work.unchanged:
        return "unchanged", None
    if vectors is None:
        removed = "; its earlier version was removed from the store" if work.known_ids else ""
        return "skipped", (reason or "could not be embedded") + removed
    return ("updated" if work.known_ids else "added"), None


def commit_works(
    store: VectorStore,
    model_id: str,
    root: Path,
    works: list[FileWork],
    embedded: list[tuple[np.ndarray | None, str | None]],
    report: IndexReport,
) -> list[tuple[str, str | None]]:
    """Write a batch's results: new versions first, then the points they replace (a crash between the two writes
    leaves extras, which the next run repairs, never a gap). A file that cannot be indexed also loses its old points
    (an earlier, now wrong version). Returns each file's :func:`outcome`, also recorded in ``report``."""
    points, dropped, outcomes = [], [], []
    for work, (vectors, reason) in zip(works, embedded):
        file, units = work.file, work.units
        outcomes.append(outcome(work, vectors, reason))
        report.record(str(file.path), *outcomes[-1])
        if work.unchanged:  # touched, not changed: refresh the payload (mtime), keep the vectors, drop leftovers
            kept = {p.id: p.vector for p in store.retrieve(work.ids, with_vectors=True)}
            points += [
                StoredPoint(pid, kept[pid], _payload(file, root, work.sha, model_id, text, span, i, len(units)))
                for i, (pid, (_, text, span)) in enumerate(zip(work.ids, units))
            ]
            dropped += [pid for pid in work.known_ids if pid not in set(work.ids)]
        elif vectors is None:
            dropped += list(work.known_ids)
        else:
            points += [
                StoredPoint(pid, vector, _payload(file, root, work.sha, model_id, text, span, i, len(units)))
                for i, (pid, vector, (_, text, span)) in enumerate(zip(work.ids, vectors, units))
            ]
            dropped += [pid for pid in work.known_ids if pid not in set(work.ids)]
    store.upsert(points)
    store.delete(dropped)
    return outcomes


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
    plan = plan_index(store, root, include_hidden, exclude)
    bar = tqdm(total=len(plan.todo), desc=f"index {plan.root.name}", unit="file", disable=not progress)
    for start in range(0, len(plan.todo), batch_size):
        works = [read_work(work) for work in plan.todo[start : start + batch_size]]
        commit_works(store, model_id, plan.root, works, embed_works(embedder, works), plan.report)
        bar.update(len(works))
        if on_batch:
            on_batch(plan.report)
    bar.close()
    return plan.report
