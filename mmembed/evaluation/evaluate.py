"""``evaluate``: quality figures of several models (and the peers) on manifests, in one run, from Python.

    from mmembed.evaluation import evaluate
    results = evaluate(["mmembed-default"], ["data/tuxpaint.jsonl"], tasks=["retrieval"], baselines=["lit"])

``results`` is ``{model name: {"task:modality[@source]": figures}}``, what ``mmembed eval`` writes as JSON."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from encoders.feature_memo import remembered_features

from ..data import read_manifest
from .ensemble import with_ensembles
from .peers import PEERS
from .tasks import TASKS, TEXT_TASKS

DEFAULT_TASKS = ("retrieval", "zeroshot")


def model_loaders(models: Sequence, device: str | None = None) -> list[tuple[str, Callable]]:
    """(name, load) per model: a string is a shipped name, folder or backbone (``NAME=PATH`` names its row); a
    ``(name, model)`` pair is an embedder (or anything with ``encode``) already loaded."""
    import mmembed

    loaders = []
    for spec in models:
        if isinstance(spec, tuple):
            name, model = spec
            loaders.append((name, lambda model=model: model))
            continue
        name, _, source = str(spec).rpartition("=")
        loaders.append((name or Path(source).name, lambda source=source: mmembed.load(source, device=device)))
    return loaders


def peer_loaders(
    baselines: Sequence[str], fit_rows: list[dict], peer_cache: str | Path | None = None
) -> list[tuple[str, Callable]]:
    """(name, build) per peer; a trainable peer (LiT) is fitted on ``fit_rows`` when built (its fit kept in
    ``peer_cache``, when given, for a later run on the same rows)."""
    unknown = sorted(set(baselines) - set(PEERS))
    if unknown:
        raise ValueError(f"unknown baselines {unknown}; known: {sorted(PEERS)}")

    def build(peer: str):
        made = PEERS[peer]
        return made().fit(fit_rows, cache_dir=peer_cache) if hasattr(made, "fit") else made()

    return [(PEERS[peer].name, lambda peer=peer: build(peer)) for peer in baselines]


def groups_of(rows: list[dict], per_source: bool) -> dict[str, list[dict]]:
    """``{"": rows}``, or one group per data source (``"@tuxpaint"``) with ``per_source``."""
    if not per_source:
        return {"": rows}
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(f"@{row.get('source', 'unknown')}", []).append(row)
    return groups


def evaluate(
    models: Sequence,
    manifests: Sequence[str | Path],
    tasks: Sequence[str] | None = None,
    baselines: Sequence[str] = (),
    split: str = "test",
    fit_manifests: Sequence[str | Path] | None = None,
    per_source: bool = False,
    limit: int = 1000,
    modality: str | None = None,
    device: str | None = None,
    after_model: Callable | None = None,
    peer_cache: str | Path | None = None,
    ensembles: Sequence[tuple[str, str]] = (),
    ensemble_shares: Sequence[float] = (0.5,),
    ensemble_media_shares: Sequence[float | None] = (None,),
) -> dict[str, dict]:
    """Every model and peer on every task, modality and group of the manifests' ``split``.

    fit_manifests: whose train split fits trainable peers (LiT); default the evaluated manifests (give the data the
    model was trained on, for equal conditions). limit: at most this many text pairs per text task. after_model:
    called as ``after_model(name, model, rows)`` once a model's figures are in (``mmembed eval --plot`` draws there).
    peer_cache: a folder where trainable peers keep their fit (LiT's heads, keyed by everything they depend on).
    ensembles: pairs of model names (as their rows are named): each pair's score-level ensemble (ensemble.py) at
    every one of ``ensemble_shares`` (and of ``ensemble_media_shares``, media items' own; None: the same) is evaluated
    too, after the models, from their remembered encodings.
    A task that does not apply to the data (no audio rows, no labels) is reported and left out, not an error."""
    unknown = sorted(set(tasks or ()) - set(TASKS))
    if unknown:
        raise ValueError(f"unknown tasks {unknown}; known: {sorted(TASKS)}")
    rows = [row for manifest in manifests for row in read_manifest(manifest, split)]
    modalities = [modality] if modality else sorted({k for row in rows for k in ("image", "audio") if k in row})
    loaders = model_loaders(models, device)
    if ensembles:
        loaders = with_ensembles(loaders, ensembles, ensemble_shares, ensemble_media_shares)
    if baselines:
        fit_rows = [row for manifest in (fit_manifests or manifests) for row in read_manifest(manifest, "train")]
        loaders += peer_loaders(baselines, fit_rows, peer_cache)
    groups = groups_of(rows, per_source)
    results: dict[str, dict] = {}
    with remembered_features():  # models sharing a tower compute each item's features once
        for name, load in loaders:
            model = load()
            results[name] = _evaluate_model(name, model, tasks, modalities, groups, limit)
            if after_model is not None:
                after_model(name, model, rows)
    return results


def _evaluate_model(name: str, model, tasks, modalities: list[str], groups: dict, limit: int) -> dict:
    figures = {}
    for task in tasks or DEFAULT_TASKS:
        for task_modality in ["text"] if task in TEXT_TASKS else modalities:
            options = {"limit": limit} if task in TEXT_TASKS else {}
            for group, group_rows in groups.items():
                key = f"{task}:{task_modality}{group}"
                try:
                    media = None if task_modality == "text" else task_modality
                    figures[key] = TASKS[task](model, group_rows, media, **options)
                except ValueError as error:
                    print(f"eval: {name} {key} skipped: {error}")
    return figures
