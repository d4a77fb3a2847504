"""Frozen tower features, computed once per item and cached, so CPU training only runs the LLM and projectors."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from encoders import MediaError
from mmembed.inputs import parse_input


def feature_settings(tower_config) -> str:
    """The tower settings that make its features: the transcript channel's do not (it blends vectors after the
    tower), so a model that transcribes shares the cache of one that does not. An image summary
    (``summary_blocks``) is named only when there is one: a tower without it keeps the keys it had before the
    setting existed."""
    if getattr(tower_config, "transcribe", None) is not None:
        defaults = type(tower_config)
        tower_config = dataclasses.replace(
            tower_config, transcribe=defaults.transcribe, transcript_weight=defaults.transcript_weight
        )
    summary = getattr(tower_config, "summary_blocks", ())
    return repr(tower_config) + (f" summary_blocks={list(summary)}" if summary else "")


def cache_key(row: dict, kind: str, tower_config) -> str:
    path = Path(row[kind]).resolve()  # one key for one file, however a manifest reached it (symlinks, ..)
    stat = path.stat()
    settings = feature_settings(tower_config)
    return hashlib.sha256(f"{path}|{stat.st_size}|{stat.st_mtime_ns}|{settings}".encode()).hexdigest()[:24]


def stored_features(cache_dir: Path, kind: str) -> dict[str, torch.Tensor]:
    """Every cached feature of one kind, by item key, from all the cache files any earlier run wrote here."""
    stored: dict[str, torch.Tensor] = {}
    for cache_file in sorted(cache_dir.glob(f"{kind}-*.safetensors")):
        stored.update(load_file(str(cache_file)))
    return stored


def media_features(embedder, rows: list[dict], cache_dir: Path, batch_size: int = 16) -> dict[int, torch.Tensor]:
    """{row index: (num_tokens, F)} for every image/audio row; rows that cannot be decoded are reported and left out.

    Items already in the cache (from any earlier run that shares ``cache_dir``) are read, only the others computed;
    they go to a new file named by their keys, so concurrent runs never rewrite each other's files."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    features: dict[int, torch.Tensor] = {}
    for kind in ("image", "audio"):
        indices = [i for i, row in enumerate(rows) if kind in row]
        if not indices:
            continue
        config = embedder.modalities.tower_configs[kind]
        keys = {i: cache_key(rows[i], kind, config) for i in indices}
        stored = stored_features(cache_dir, kind)
        features.update({i: stored[keys[i]] for i in indices if keys[i] in stored})
        sharing: dict[str, list[int]] = {}  # rows naming the same file (one image captioned in 7 languages) share it
        for i in indices:
            if keys[i] not in stored:
                sharing.setdefault(keys[i], []).append(i)
        missing = [rows_of_key[0] for rows_of_key in sharing.values()]  # computed once per file
        if not missing:
            continue
        run = embedder.modalities.image_features if kind == "image" else embedder.modalities.audio_features
        computed = {}
        for start in tqdm(range(0, len(missing), batch_size), desc=f"{kind} features", unit="batch"):
            group, media = [], []
            for i in missing[start : start + batch_size]:
                try:
                    parsed = parse_input(i, {kind: rows[i][kind]})
                except (MediaError, ValueError) as error:
                    print(f"features: skipping {rows[i][kind]}: {error}")
                    continue
                group.append(i)
                media.append(getattr(parsed, kind))
            if media:
                for i, feature in zip(group, run(media)):
                    computed[keys[i]] = feature.contiguous()
                    features.update({j: feature for j in sharing[keys[i]]})
        if computed:
            name = hashlib.sha256("".join(sorted(computed)).encode()).hexdigest()[:16]
            save_file(computed, str(cache_dir / f"{kind}-{name}.safetensors"))
    return features
