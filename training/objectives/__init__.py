"""Training objectives, each a plugin: a small module that registers itself under a name used in the config.

    objectives: {infonce: {temperature: 0.05, learnable_temperature: true}}

Adding an objective touches one file here: subclass :class:`Objective`, decorate with ``@register("name")``.
"""
from __future__ import annotations

from torch import nn

OBJECTIVES: dict[str, type] = {}


def register(name: str):
    def decorate(cls):
        OBJECTIVES[name] = cls
        cls.name = name
        return cls

    return decorate


class Objective(nn.Module):
    """``forward(embedder, batch) -> (loss, {metric: float})``; its own parameters (a temperature, a decoder) train too."""

    name = "objective"


def build_objectives(settings: dict) -> dict[str, Objective]:
    from . import infonce  # noqa: F401  (registers)

    unknown = sorted(set(settings) - set(OBJECTIVES))
    if unknown:
        raise ValueError(f"unknown objectives {unknown}; known: {sorted(OBJECTIVES)}")
    return {name: OBJECTIVES[name](**(options or {})) for name, options in settings.items()}
