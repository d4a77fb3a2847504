"""Frozen tower features remembered within a scope, so several models that share a tower compute each item's features
once (an evaluation of five checkpoints of one recipe runs the Whisper encoder over each clip once, not five times).

    with remembered_features():
        for model in models:
            model.encode(clips)  # the second model reads the first one's tower features

Outside a ``remembered_features()`` scope nothing is kept (a service or a benchmark never serves stale or cached
work). An item's key is the tower's identity (its class, a digest of its weights and the config fields that shape
its output, device and dtype) and a digest of the item's own bytes (the image's mode, size and pixels; the
waveform's samples), so two towers with different weights never share a feature."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

DEFAULT_MAX_ITEMS = 200_000  # ~12-20 KB each for the packaged towers' pooled features: a few GB at most

_lock = threading.Lock()
_memo: OrderedDict[tuple, torch.Tensor] | None = None
_max_items = DEFAULT_MAX_ITEMS
_depth = 0


@contextmanager
def remembered_features(max_items: int = DEFAULT_MAX_ITEMS) -> Iterator[None]:
    """Within this scope, tower features are remembered (the oldest dropped past ``max_items``); nested scopes share
    the outer one's memory, and it is emptied when the outermost ends."""
    global _memo, _max_items, _depth
    with _lock:
        if _depth == 0:
            _memo, _max_items = OrderedDict(), max_items
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _memo = None


def remembering() -> bool:
    return _memo is not None


def tower_identity(tower: nn.Module) -> tuple:
    """What a tower's features depend on besides the item: weights, output-shaping config, device and dtype. The
    weight digest is computed once per tower object (towers are frozen)."""
    digest = getattr(tower, "_feature_memo_digest", None)
    if digest is None:
        hasher = hashlib.sha256()
        for name, tensor in sorted(tower.state_dict().items()):
            hasher.update(name.encode())
            hasher.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
        digest = hasher.hexdigest()
        tower._feature_memo_digest = digest
    config = getattr(tower, "config", None)
    settings = ()
    if dataclasses.is_dataclass(config):
        settings = tuple(
            (f.name, repr(getattr(config, f.name)))
            for f in dataclasses.fields(config)
            if f.metadata.get("shapes_features", True)  # limits and blends (encoders/config.py) do not
        )
    parameter = next(tower.parameters())
    return (type(tower).__name__, digest, settings, parameter.device.type, str(parameter.dtype))


def item_digest(item) -> str:
    """A digest of one tower input: a PIL image (mode, size, pixels) or a waveform tensor (length, samples)."""
    hasher = hashlib.sha256()
    if isinstance(item, torch.Tensor):
        samples = item.detach().to("cpu", torch.float32).contiguous()
        hasher.update(f"wave{tuple(samples.shape)}".encode())
        hasher.update(samples.numpy().tobytes())
    else:
        hasher.update(f"image{item.mode}{item.size}".encode())
        hasher.update(item.tobytes())
    return hasher.hexdigest()


def features_of(tower: nn.Module, items: Sequence, compute: Callable[[list], torch.Tensor]) -> torch.Tensor:
    """``compute(items)`` -> (B, ...) features, except that inside a ``remembered_features()`` scope items whose
    features this tower (or one with the same identity) already computed are read back, and only the others run."""
    if _memo is None or not items:
        return compute(list(items))
    identity = tower_identity(tower)
    keys = [(identity, item_digest(item)) for item in items]
    with _lock:
        known = [_memo.get(key) if _memo is not None else None for key in keys]
    missing = [i for i, feature in enumerate(known) if feature is None]
    if missing:
        computed = compute([items[i] for i in missing])
        with _lock:
            for i, feature in zip(missing, computed):
                known[i] = feature
                if _memo is not None:
                    _memo[keys[i]] = feature.clone()
                    _memo.move_to_end(keys[i])
                    while len(_memo) > _max_items:
                        _memo.popitem(last=False)
    return torch.stack(known)
