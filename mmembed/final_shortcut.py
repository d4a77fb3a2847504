"""The final shortcut: per media kind, a map (linear or a small MLP) from the tower's mean-pooled features straight
onto the model's *final* vectors (what ``encode`` returns: after the output head, the tower shortcuts and a view's
join), blended in.

The tower shortcuts (encoders/shortcut.py) each land in one head's space and are fitted there; the final vector of an
item is a blend of blends that no fit ever saw whole. The final shortcut is fitted against the model's own final query
vectors of the captions (``mmembed fit-shortcut --final``; the text side is locked, so every text vector stays bit for
bit), and an item's vector becomes

    unit((1 - b) * unit(vector) + b * unit(map(features)))        b = weights[kind]

Saved as ``final_shortcut/`` in the model folder: ``final_shortcut.json`` (this config) and ``shortcuts.safetensors``.
It belongs to the space it was fitted on: ``add_view`` drops it, as it drops a calibration."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .modalities import SHORTCUTS_FILE, blend_shortcuts, load_shortcuts, save_shortcuts
from .view import check_share

FINAL_FOLDER = "final_shortcut"
FINAL_CONFIG = "final_shortcut.json"
STORAGE = {"float32": torch.float32, "float16": torch.float16}


@dataclass
class FinalShortcutConfig:
    """weights: per media kind, the map's share ``b`` of an item's final vector; hidden_dim: the maps' hidden layer
    (None: linear maps); sources: per media kind, where its map was fitted (the fit's data, for the record); storage:
    the dtype its parameters are saved in ("float16" halves the file; they are rounded to it when set, so a model in
    memory and its saved copy are the same model, computing in the model's dtype)."""

    weights: dict[str, float] = field(default_factory=dict)
    hidden_dim: int | None = None
    sources: dict[str, str] = field(default_factory=dict)
    storage: str = "float32"

    def __post_init__(self) -> None:
        if self.storage not in STORAGE:
            raise ValueError(f"a final shortcut's storage is {self.storage!r}, not one of {', '.join(STORAGE)}")
        for kind, weight in self.weights.items():
            if kind not in ("image", "audio"):
                raise ValueError(f"a final shortcut's weight names {kind!r}, not 'image' or 'audio'")
            check_share(weight, f"the final {kind} shortcut's weight")

    @classmethod
    def read(cls, path: Path) -> FinalShortcutConfig:
        fields = json.loads(path.read_text())
        if "source" in fields:  # written before the maps of each kind could be fitted apart: one source for all
            source = fields.pop("source")
            fields["sources"] = {kind: source for kind in fields.get("weights", {}) if source}
        return cls(**fields)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n")


class FinalShortcut(nn.Module):
    """The maps (a ``Shortcut`` per media kind, features -> the model's final dimension) and their weights."""

    def __init__(self, config: FinalShortcutConfig, shortcuts: nn.ModuleDict):
        super().__init__()
        self.config = config
        self.shortcuts = shortcuts
        self.eval()  # an MLP map's dropout is for its fit only
        if config.storage != "float32":  # the values it is saved as (float32 holds any model's values as they are)
            with torch.no_grad():
                for parameter in shortcuts.parameters():
                    parameter.copy_(parameter.to(STORAGE[config.storage]))
        missing = sorted(k for k, w in config.weights.items() if w > 0 and k not in shortcuts)
        if missing:
            raise ValueError(f"the final shortcut blends maps for {missing} but has none for them")

    def blend(self, output: torch.Tensor, media: dict[int, tuple[str, torch.Tensor]], device) -> None:
        """Blend each media row of ``output`` (N, D) in place with its kind's map of its tower features (``media``:
        row -> (kind, features)), back to unit length; rows of kinds at weight 0, texts and NaN rows are left as they
        are."""
        rows = blend_shortcuts(output, media, self.shortcuts, self.config.weights, device)
        output[rows] = F.normalize(output[rows], dim=-1)

    def save(self, folder: Path) -> None:
        target = folder / FINAL_FOLDER
        target.mkdir(parents=True, exist_ok=True)
        self.config.write(target / FINAL_CONFIG)
        save_shortcuts(self.shortcuts, target / SHORTCUTS_FILE, STORAGE[self.config.storage])

    @classmethod
    def load(cls, folder: Path, new_shortcut) -> FinalShortcut | None:
        """The final shortcut saved in a model folder, or None; ``new_shortcut(kind, hidden_dim, in_dim)`` builds an
        empty map."""
        target = folder / FINAL_FOLDER
        if not (target / FINAL_CONFIG).is_file():
            return None
        config = FinalShortcutConfig.read(target / FINAL_CONFIG)
        maps = load_shortcuts(
            target / SHORTCUTS_FILE, lambda kind, in_dim: new_shortcut(kind, config.hidden_dim, in_dim)
        )
        return cls(config, maps)
