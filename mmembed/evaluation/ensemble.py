"""Score-level ensembles of two models, for evaluation: would two spaces together beat each alone?

The ensemble's vector of an input is ``[sqrt(1 - s) * a, sqrt(s) * b]``, the unit vectors of the two models side by
side, so its cosine between two inputs is ``(1 - s) * cos_a + s * cos_b`` (MoEE's similarity, ``cos(HS) + a *
cos(RW)``, with the two parts weighted to one). Each model encodes every input once: :class:`RememberedEncodings`
keeps what it returned, so the two models alone and every share of their ensemble cost two models' encodes.

A media share ``m`` weighs media items (anything not a string) apart from texts: a text and an item then score
``sqrt((1 - s)(1 - m)) * cos_a + sqrt(s * m) * cos_b``; at ``m = 0`` every item ranks, and is ranked, by the first
model alone, while texts among themselves still score with ``s``. A model with a view (mmembed/view.py,
``mmembed add-view``) writes these vectors itself, its LLM running once."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np
import torch

from ..view import check_share as check_view_share
from ..view import join_views


def as_items(inputs) -> tuple[list, bool]:
    """``encode``'s inputs as a list, and whether they were one input (not a list or tuple) to unwrap after."""
    single = not isinstance(inputs, (list, tuple))
    return ([inputs] if single else list(inputs)), single


class RememberedEncodings:
    """A model whose ``encode`` answers a repeated call (same inputs, same instruction) from memory."""

    def __init__(self, model):
        self.model = model
        self.memory: dict[tuple, np.ndarray] = {}

    def encode(self, inputs, batch_size: int = 32, instruction: str | None = None, **options) -> np.ndarray:
        items, single = as_items(inputs)
        key = (instruction, options.get("normalize"), tuple(str(item) for item in items))
        if key not in self.memory:
            vectors = self.model.encode(items, batch_size=batch_size, instruction=instruction, **options)
            self.memory[key] = np.asarray(vectors, dtype=np.float32)
        vectors = self.memory[key]
        return vectors[0] if single else vectors

    def __getattr__(self, name: str):  # everything but encode is the model's (plots read its towers)
        return getattr(self.model, name)


class ScoreEnsemble:
    """Two models' unit vectors side by side, weighted so cosines add as ``(1 - share) * cos_a + share * cos_b``
    (media items at ``media_share``, when given). An input either model could not embed is NaN in the ensemble."""

    def __init__(self, first, second, share: float, media_share: float | None = None):
        for value in (share, media_share):
            check_share(value)
        self.first, self.second, self.share = first, second, share
        self.media_share = share if media_share is None else media_share

    def encode(self, inputs, batch_size: int = 32, instruction: str | None = None, **options) -> np.ndarray:
        options.pop("normalize", None)  # the parts are normalised; the whole is unit by construction
        items, single = as_items(inputs)
        parts = [
            np.asarray(model.encode(items, batch_size=batch_size, instruction=instruction, **options), np.float32)
            for model in (self.first, self.second)
        ]
        shares = torch.tensor([self.share if isinstance(item, str) else self.media_share for item in items])
        joined = join_views(torch.from_numpy(parts[0]), torch.from_numpy(parts[1]), shares).numpy()
        return joined[0] if single else joined


def check_share(share: float | None) -> None:
    if share is not None:
        check_view_share(share, "an ensemble share")


def ensemble_name(first: str, second: str, share: float, media_share: float | None = None) -> str:
    return f"{first}+{second}@{share:g}" + ("" if media_share is None else f"/media{media_share:g}")


def with_ensembles(
    loaders: list[tuple[str, Callable]],
    pairs: Sequence[tuple[str, str]],
    shares: Sequence[float],
    media_shares: Sequence[float | None] = (None,),
) -> list[tuple[str, Callable]]:
    """``loaders`` (name, load) plus one per pair, share and media share, after them; a model in a pair is loaded
    once and remembers its encodings, so its own row and every ensemble it is part of share them."""
    known = [name for name, _ in loaders]
    for pair in pairs:
        if len(pair) != 2 or pair[0] == pair[1]:
            raise ValueError(f"an ensemble joins two different models, got {list(pair)}")
        missing = [name for name in pair if name not in known]
        if missing:
            raise ValueError(f"ensemble model {', '.join(missing)} is not among the evaluated models {known}")
    for share in [*shares, *media_shares]:
        check_share(share)
    used = {name for pair in pairs for name in pair}
    remembered = {
        name: functools.cache(lambda load=load: RememberedEncodings(load())) for name, load in loaders if name in used
    }
    out = [(name, remembered.get(name, load)) for name, load in loaders]
    for first, second in pairs:
        for share in shares:
            for media in media_shares:
                out.append(
                    (
                        ensemble_name(first, second, share, media),
                        lambda a=remembered[first], b=remembered[second], s=share, m=media: ScoreEnsemble(
                            a(), b(), s, m
                        ),
                    )
                )
    return out
