"""Named backbones, like open_clip's model configs: one JSON file each in ``mmembed/model_configs``."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources


@cache
def _specs() -> dict[str, dict]:
    specs = {}
    for entry in resources.files("mmembed").joinpath("model_configs").iterdir():
        if entry.name.endswith(".json"):
            spec = json.loads(entry.read_text())
            specs[spec["name"]] = spec
    return specs


def list_models() -> list[str]:
    return sorted(_specs())


def get_model_spec(name: str) -> dict | None:
    return _specs().get(name)
