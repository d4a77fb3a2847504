"""Indexing throughput: files/s of ``client.index()`` in one process and on a local Ray cluster, in one run, on the
same files (Tux Paint stamps: images and sounds with sidecar captions), each into a fresh store."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from ..data.media_files import KINDS


def sample_folder(source: Path, count: int, target: Path) -> Path:
    """The first ``count`` media files under ``source`` (sorted paths), linked into ``target`` with their captions."""
    media = sorted(p for p in source.rglob("*") if KINDS.get(p.suffix.lower()) in ("image", "audio"))[:count]
    if len(media) < count:
        raise ValueError(f"{source} holds {len(media)} media files; asked for {count}")
    for path in media:
        for linked in (path, path.with_suffix(".txt")):
            if linked.is_file():
                destination = target / linked.relative_to(source)
                destination.parent.mkdir(parents=True, exist_ok=True)
                if not destination.exists():
                    os.symlink(linked.resolve(), destination)
    return target


def measure_indexing(model: str, folder: Path, ray_actors: int = 2, device: str | None = None) -> dict:
    """Files/s of the single-process path and of the Ray path (a local cluster of this machine's CPUs, started
    before the clock runs; the actors' model loads are inside the Ray figure, as a user pays them)."""
    import ray

    from ..client import Client
    from ..ray_indexer import RaySettings

    with tempfile.TemporaryDirectory() as tmp:
        with Client(model, store=str(Path(tmp) / "single"), device=device) as client:
            start = time.perf_counter()
            single = client.index(folder, progress=False)
            single_s = time.perf_counter() - start
            ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
            try:
                with Client(model, store=str(Path(tmp) / "ray"), device=device) as ray_client:
                    start = time.perf_counter()
                    on_ray = ray_client.index(folder, progress=False, ray=RaySettings(actors=ray_actors))
                    ray_s = time.perf_counter() - start
            finally:
                ray.shutdown()
    files = single.added
    if on_ray.added != files:
        raise RuntimeError(f"the Ray path indexed {on_ray.added} files, the single-process path {files}")
    return {
        "files": files,
        "single_s": single_s,
        "ray_s": ray_s,
        "single_files_per_s": files / single_s,
        "ray_files_per_s": files / ray_s,
        "ray_vs_single": single_s / ray_s,
        "ray_actors": ray_actors,
        "cpus": os.cpu_count(),
    }
