"""Training objectives, each a plugin: a small module that registers itself under a name used in the config.

    objectives: {infonce: {temperature: 0.05, learnable_temperature: true}}
    objectives: {infonce: {}, next_token: {weight: 0.5}}           # GRIT
    objectives: {mntp: {}}  then  {simcse: {}}  then  {infonce: {}}  # LLM2Vec, stage by stage
    objectives: {infonce: {sources: [wordnet]}, translation_distill: {sources: [tuxpaint, "emoji*"]}}

``sources`` (shell patterns, any objective): the objective runs only on batches from a matching source (batches by
source); a batch no objective claims is an error, not a silent zero step.

Registered: infonce, mntp (LLM2Vec), simcse (LLM2Vec), next_token (GRIT), unimae (UniMAE), locked_text (projector
alignment against the frozen model's own text vectors), translation_distill (translated queries onto their English
originals, everything else anchored where the starting model put it).

Adding an objective touches one file here: subclass :class:`Objective`, decorate with ``@register("name")``.
"""

from __future__ import annotations

import fnmatch
import math
from pathlib import Path

import torch
from torch import nn

OBJECTIVES: dict[str, type] = {}


def register(name: str):
    def decorate(cls):
        OBJECTIVES[name] = cls
        cls.name = name
        return cls

    return decorate


class Objective(nn.Module):
    """``forward(embedder, batch: TrainBatch) -> (loss, {metric: float})``, through the embedder's training surface
    (``embed_items``, ``embed_texts``, ``tokenize``, ``content_mask``, ``mask_tokens``, ``token_states``); its own
    parameters (a temperature, a decoder) train too."""

    name = "objective"
    sources: tuple[str, ...] | None = None  # shell patterns of the sources it runs on (None: every batch)

    def runs_on(self, source: str | None) -> bool:
        """Whether a batch from ``source`` is this objective's (a mixed batch, source None, only with no filter)."""
        if self.sources is None:
            return True
        return source is not None and any(fnmatch.fnmatch(source, pattern) for pattern in self.sources)

    def prepare(self, embedder) -> None:
        """Build parts that depend on the model (called before the optimizer is made)."""

    def prepare_examples(self, embedder, examples: list, cache_dir: Path) -> None:
        """Precompute what depends on the whole training set (once per run, after :meth:`prepare`, before a checkpoint
        is resumed); ``cache_dir`` (the run's feature cache) keeps what a later run of the same model can reuse."""


def logit_scale(temperature: float, learnable: bool) -> nn.Parameter:
    """CLIP's logit scale, log(1 / temperature), fixed or learned."""
    return nn.Parameter(torch.tensor(math.log(1 / temperature)), requires_grad=learnable)


def scale_of(log_scale: nn.Parameter) -> torch.Tensor:
    """The multiplier of the cosines, clamped at 100 as in CLIP (a temperature never below 0.01)."""
    return log_scale.exp().clamp(max=100)


def build_objectives(settings: dict) -> dict[str, Objective]:
    from . import infonce, locked_text, mntp, next_token, simcse, translation_distill, unimae  # noqa: F401  (each registers itself)

    unknown = sorted(set(settings) - set(OBJECTIVES))
    if unknown:
        raise ValueError(f"unknown objectives {unknown}; known: {sorted(OBJECTIVES)}")
    built = {}
    for name, options in settings.items():
        options = dict(options or {})
        sources = options.pop("sources", None)
        if sources is not None and (isinstance(sources, str) or not sources):
            raise ValueError(f"objective {name}: sources must be a non-empty list of source patterns, got {sources!r}")
        built[name] = OBJECTIVES[name](**options)
        built[name].sources = None if sources is None else tuple(str(pattern) for pattern in sources)
    return built


def check_objective_sources(objectives, sources: list[str], batching: str) -> None:
    """Before any tower runs: ``sources`` filters need batches by source, and every source must be some objective's."""
    objectives = list(objectives)
    named = sorted(o.name for o in objectives if o.sources is not None)
    if named and batching != "by_source":
        raise ValueError(f"objectives {named} name their sources: they need batching: by_source")
    unclaimed = sorted({s for s in sources if not any(o.runs_on(s) for o in objectives)})
    if unclaimed:
        raise ValueError(f"no objective runs on the sources {unclaimed}: add them to an objective's sources")
