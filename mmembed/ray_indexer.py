"""Indexing on a Ray cluster: the single-process indexer's steps (mmembed/indexer.py), run as a Ray Data pipeline.

    plan (driver: walk + store diff, no file read)
      -> read (CPU tasks: hash, cut text into passages, decode media with the model's limits)
      -> embed (an actor pool: one loaded model per actor, on a GPU when the cluster has them)
      -> commit (the driver, the one writer, so the embedded store works too; or, into a Qdrant server, every
                 actor writes its own batches and the driver only counts)

The contract is the single-process one, by construction: the same plan, the same point ids (content + path), the
same commit; unchanged files are never read; a killed driver resumes from what the store holds on the next run (each
batch is committed as soon as it is embedded); a lost worker's batch is retried by Ray (actors restart, tasks
retry); bad files are skipped with their reasons in one report; every actor checks it computes the collection's
vector space before it embeds anything.

Ray is an optional extra: ``pip install 'mmembed[ray]'``.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from store import StoreAddress

from .indexer import FileWork, IndexReport, commit_works, embed_works, plan_index, read_work
from .media_walk import MediaFile

READ_TASK_CPUS = 0.25
INSTALL_HINT = "indexing on Ray needs the ray extra: pip install 'mmembed[ray]'  (ray[data]==2.60.0)"


def import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return ray


@dataclass
class RaySettings:
    """address: a running cluster (``ray://host:10001``, ``auto``), or None for a local one (``RAY_ADDRESS`` wins);
    actors: embedding actors (default: one per GPU, else one); batch_size: files per batch (default 64 on a GPU, 16
    on CPU); cpus_per_actor: CPU threads each CPU actor's torch uses."""

    address: str | None = None
    actors: int | None = None
    batch_size: int | None = None
    cpus_per_actor: int = 1
    num_cpus: int | None = None  # for a local cluster started here
    writes: str = "auto"  # "driver", "workers" (a Qdrant server only), or "auto": workers when the store is a server

    def __post_init__(self):
        if self.writes not in WRITERS:
            raise ValueError(f"RaySettings.writes must be one of {WRITERS}, got {self.writes!r}")


WRITERS = ("auto", "driver", "workers")


def choose_writer(settings: RaySettings, address: StoreAddress | None) -> str:
    """``driver`` or ``workers``: workers write only into a server (an embedded store is one process's files)."""
    server = address is not None and address.is_server
    if settings.writes == "workers" and not server:
        raise ValueError(
            "workers write only into a Qdrant server (--store http(s)://...): an embedded store has one writer, "
            "this process (use writes='driver')"
        )
    return "workers" if settings.writes == "workers" or (settings.writes == "auto" and server) else "driver"


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def _from_npy(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(data), allow_pickle=False)


def _work_to_row(work: FileWork, media: bytes = b"") -> dict:
    file = work.file
    record = {
        "path": str(file.path),
        "kind": file.kind,
        "size": file.size,
        "mtime_ns": file.mtime_ns,
        "known_ids": sorted(work.known_ids),
        "sha": work.sha,
        "ids": work.ids,
        "units": [[text, list(span) if span else None] for _, text, span in work.units],
        "error": work.error,
    }
    return {"work": json.dumps(record), "media": media}


def _work_from_row(row_work: str, media: bytes | None = None) -> FileWork:
    record = json.loads(row_work)
    file = MediaFile(Path(record["path"]), record["kind"], record["size"], record["mtime_ns"])
    item = file.path
    if media:  # decoded by a read task: an RGB image (H, W, 3) or 16 kHz mono samples
        array = _from_npy(media)
        if array.ndim == 3:
            from PIL import Image

            item = Image.fromarray(array)
        else:
            item = (array, 16_000)
    units = [
        (text if text is not None else item, text, tuple(span) if span else None) for text, span in record["units"]
    ]
    return FileWork(file, frozenset(record["known_ids"]), record["sha"], record["ids"], units, record["error"])


def read_batch(batch: dict, limits: dict) -> dict:
    """Ray Data task: hash and cut each file, decode its media (so actors only embed); errors become reasons."""
    from encoders import MediaError

    from .inputs import parse_input

    rows = {"work": [], "media": []}
    for row_work in batch["work"]:
        work = read_work(_work_from_row(row_work))
        media = b""
        if work.error is None and not work.unchanged and work.file.kind in ("image", "audio"):
            try:
                parsed = parse_input(0, work.file.path, **limits)
                if parsed.image is not None:
                    media = _npy(np.asarray(parsed.image.convert("RGB"), dtype=np.uint8))
                else:
                    media = _npy(parsed.audio.numpy().astype(np.float32))
            except (MediaError, ValueError) as error:
                work.error = str(getattr(error, "reason", error))
        row = _work_to_row(work, media)
        rows["work"].append(row["work"])
        rows["media"].append(row["media"])
    return rows


class EmbedActor:
    """One loaded model per actor; refuses to start when its model computes another space than the collection's.
    Given a ``store`` (a server's :class:`StoreAddress`), it writes its batches itself and returns each file's outcome
    instead of vectors."""

    def __init__(
        self,
        model: str,
        model_id: str,
        device: str | None,
        threads: int | None,
        store: StoreAddress | None = None,
        root: str | None = None,
    ):
        import torch

        import mmembed

        from .fingerprint import space_id

        if threads:
            torch.set_num_threads(threads)
        self.embedder = mmembed.load(model, device=device)
        self.model_id = model_id
        if space_id(self.embedder) != model_id:
            raise RuntimeError(f"the model {model!r} on this worker computes another vector space than the collection")
        self.store = store.open() if store is not None else None
        self.root = Path(root) if root is not None else None

    def __call__(self, batch: dict) -> dict:
        works = [_work_from_row(w, m) for w, m in zip(batch["work"], batch["media"])]
        embedded = embed_works(self.embedder, works)
        if self.store is not None:
            outcomes = commit_works(self.store, self.model_id, self.root, works, embedded, IndexReport(str(self.root)))
            return {
                "work": list(batch["work"]),
                "outcome": [kind for kind, _ in outcomes],
                "reason": [reason or "" for _, reason in outcomes],
            }
        return {
            "work": list(batch["work"]),
            "vectors": [_npy(v.astype(np.float32)) if v is not None else b"" for v, _ in embedded],
            "reason": [reason or "" for _, reason in embedded],
        }


def index_folder_ray(
    model: str,
    store,
    model_id: str,
    limits: dict,
    root: str | Path,
    settings: RaySettings | None = None,
    progress: bool = True,
    include_hidden: bool = False,
    exclude: list[Path] = (),
    actor_class: type = EmbedActor,
    address: StoreAddress | None = None,
) -> IndexReport:
    """Index ``root`` on Ray. ``model``: what each actor loads (a shipped name, folder or backbone: the same model
    as the driver's); ``limits``: the model's media limits (``Modalities.input_limits``); ``address``: how workers
    reach ``store`` themselves (a server: they write, the driver only counts; see :func:`choose_writer`)."""
    ray = import_ray()
    settings = settings or RaySettings()
    workers_write = choose_writer(settings, address) == "workers"
    plan = plan_index(store, root, include_hidden, exclude)
    if not plan.todo:
        return plan.report
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=settings.address, num_cpus=settings.num_cpus, include_dashboard=False, log_to_driver=False)
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the driver shows one bar of files committed
        context.enable_operator_progress_bars = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        resources = ray.cluster_resources()
        gpus, cpus = int(resources.get("GPU", 0)), resources.get("CPU", 1)
        actors = settings.actors or max(1, gpus)
        # CPU actors leave room for the read tasks (else a small cluster deadlocks: actors idle, reads never scheduled)
        actor_cpus = max(0.25, min(settings.cpus_per_actor, (cpus - READ_TASK_CPUS * 2) / actors))
        batch_size = settings.batch_size or (64 if gpus else 16)
        data = ray.data.from_items([_work_to_row(work) for work in plan.todo], override_num_blocks=actors * 4)
        data = data.map_batches(
            read_batch, batch_size=batch_size, fn_kwargs={"limits": limits}, num_cpus=READ_TASK_CPUS
        )
        data = data.map_batches(
            actor_class,
            fn_constructor_kwargs={
                "model": model,
                "model_id": model_id,
                "device": "cuda" if gpus else "cpu",
                "threads": None if gpus else settings.cpus_per_actor,
                "store": address if workers_write else None,
                "root": str(plan.root),
            },
            batch_size=batch_size,
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_gpus=1 if gpus else 0,
            num_cpus=0 if gpus else actor_cpus,
        )  # Ray Data's defaults retry a failed task and restart a lost actor (max_retries / max_restarts = -1)
        from tqdm.auto import tqdm

        bar = tqdm(total=len(plan.todo), desc=f"index {plan.root.name} (ray)", unit="file", disable=not progress)
        for batch in data.iter_batches(batch_size=None, batch_format="numpy"):
            works = [_work_from_row(w) for w in batch["work"]]
            if workers_write:  # already in the store: count what each file came to
                for work, kind, reason in zip(works, batch["outcome"], batch["reason"]):
                    plan.report.record(str(work.file.path), str(kind), str(reason) or None)
            else:
                embedded = [
                    (_from_npy(v) if len(v) else None, r or None) for v, r in zip(batch["vectors"], batch["reason"])
                ]
                commit_works(store, model_id, plan.root, works, embedded, plan.report)
            bar.update(len(works))
        bar.close()
    finally:
        if started_here:
            ray.shutdown()
    return plan.report
