"""Score-level ensembles of two models, for evaluation: would two spaces together beat each alone?

The ensemble's vector of an input is ``[sqrt(1 - s) * a, sqrt(s) * b]``, the unit vectors of the two models side by
side, so its cosine between two inputs is ``(1 - s) * cos_a + s * cos_b`` (MoEE's similarity, ``cos(HS) + a *
cos(RW)``, with the two parts weighted to one). Each model encodes every input once: :class:`RememberedEncodings`
keeps what it returned, so the two models alone and every share of their ensemble cost two models' encodes."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np


class RememberedEncodings:
    """A model whose ``encode`` answers a repeated call (same inputs, same instruction) from memory."""

    def __init__(self, model):
        self.model = model
        self.memory: dict[tuple, np.ndarray] = {}

    def encode(self, inputs, batch_size: int = 32, instruction: str | None = None, **options) -> np.ndarray:
        single = isinstance(inputs, str)
        items = [inputs] if single else list(inputs)
        key = (instruction, options.get("normalize"), tuple(str(item) for item in items))
        if key not in self.memory:
            vectors = self.model.encode(items, batch_size=batch_size, instruction=instruction, **options)
            self.memory[key] = np.asarray(vectors, dtype=np.float32)
        vectors = self.memory[key]
        return vectors[0] if single else vectors

    def __getattr__(self, name: str):  # everything but encode is the model's (plots read its towers)
        return getattr(self.model, name)


class ScoreEnsemble:
    """Two models' unit vectors side by side, weighted so cosines add as ``(1 - share) * cos_a + share * cos_b``.
    An input either model could not embed (a NaN row) is NaN in the ensemble too."""

    def __init__(self, first, second, share: float):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"an ensemble share must lie in [0, 1], got {share}")
        self.first, self.second, self.share = first, second, share

    def encode(self, inputs, batch_size: int = 32, instruction: str | None = None, **options) -> np.ndarray:
        options.pop("normalize", None)  # the parts are normalised; the whole is unit by construction
        parts = [
            np.asarray(model.encode(inputs, batch_size=batch_size, instruction=instruction, **options), np.float32)
            for model in (self.first, self.second)
        ]
        units = [part / np.linalg.norm(part, axis=-1, keepdims=True) for part in parts]
        return np.concatenate([math.sqrt(1 - self.share) * units[0], math.sqrt(self.share) * units[1]], axis=-1)


def ensemble_name(first: str, second: str, share: float) -> str:
    return f"{first}+{second}@{share:g}"


def with_ensembles(
    loaders: list[tuple[str, Callable]], pairs: Sequence[tuple[str, str]], shares: Sequence[float]
) -> list[tuple[str, Callable]]:
    """``loaders`` (name, load) plus one per pair and share, after them; a model in a pair is loaded once and
    remembers its encodings, so its own row and every ensemble it is part of share them."""
    known = [name for name, _ in loaders]
    for pair in pairs:
        if len(pair) != 2 or pair[0] == pair[1]:
            raise ValueError(f"an ensemble joins two different models, got {list(pair)}")
        missing = [name for name in pair if name not in known]
        if missing:
            raise ValueError(f"ensemble model {', '.join(missing)} is not among the evaluated models {known}")
    for share in shares:
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"an ensemble share must lie in [0, 1], got {share}")
    used = {name for pair in pairs for name in pair}
    remembered = {
        name: functools.cache(lambda load=load: RememberedEncodings(load())) for name, load in loaders if name in used
    }
    out = [(name, remembered.get(name, load)) for name, load in loaders]
    for first, second in pairs:
        for share in shares:
            out.append(
                (
                    ensemble_name(first, second, share),
                    lambda a=remembered[first], b=remembered[second], s=share: ScoreEnsemble(a(), b(), s),
                )
            )
    return out
