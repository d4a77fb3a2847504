"""A second view of one model's space: its own output head and tower shortcuts on the same LLM states.

Two output heads fitted on the same frozen LLM (``mmembed fit-shortcut --head`` with different teachers) read the
same pooled states differently; side by side they beat either alone (MoEE's sum of two cosines, here two heads
instead of hidden state and routing weights). A model with a view runs its LLM once per input and writes

    [sqrt(1 - s) * unit(primary), sqrt(s) * unit(view)]        (2 x D, unit length)

so the cosine of two vectors is ``(1 - s) * cos_primary + s * cos_view``. The share ``s`` is ``text_share`` for
texts and ``media_shares[kind]`` for images and sounds (the text share when a kind has none): a text and an item
then score ``sqrt((1 - s_text)(1 - s_item)) * cos_primary + sqrt(s_text * s_item) * cos_view``, and a media share
of 0 keeps that kind ranked by the primary view alone.

Saved as ``view/`` inside the model folder: ``view.json`` (this config), ``output_head.safetensors`` and
``shortcuts.safetensors``. ``mmembed add-view`` builds one from a second model folder on the same LLM (or, with
``--carry-across``, on the parent of a LoRA stage whose anchors held the states the view reads)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .modalities import SHORTCUTS_FILE, load_shortcuts, save_shortcuts

VIEW_FOLDER = "view"
VIEW_CONFIG = "view.json"


def check_share(share: float, what: str = "a view share") -> float:
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"{what} must lie in [0, 1], got {share}")
    return share


@dataclass
class ViewConfig:
    """text_share: the view's share of a text's cosine; media_shares: per media kind, its share of an item's (kinds
    not named take ``text_share``); shortcut_weights: per media kind, the view's tower shortcut's share of its own
    item vectors (as ``EmbedderConfig.shortcut_weights`` for the primary); source: where the view was taken from;
    carried_across: what of the LLM path the view was not fitted on (``add_view(carry_across=True)``), else empty."""

    text_share: float
    media_shares: dict[str, float] = field(default_factory=dict)
    shortcut_weights: dict[str, float] = field(default_factory=dict)
    source: str | None = None
    carried_across: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_share(self.text_share, "text_share")
        for what, values in (("share", self.media_shares), ("shortcut weight", self.shortcut_weights)):
            for kind, value in values.items():
                if kind not in ("image", "audio"):
                    raise ValueError(f"a view's media {what} names {kind!r}, not 'image' or 'audio'")
                check_share(value, f"the {kind} {what}")

    @classmethod
    def read(cls, path: Path) -> ViewConfig:
        return cls(**json.loads(path.read_text()))

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n")

    def share(self, kind: str | None) -> float:
        """The view's share of an input's cosine: texts (``kind`` None) at the text share, items at their kind's."""
        return self.text_share if kind is None else self.media_shares.get(kind, self.text_share)


class View(nn.Module):
    """The view's weights (an output head, tower shortcuts per kind) and its config."""

    def __init__(self, config: ViewConfig, head: torch.Tensor | None, shortcuts: nn.ModuleDict | None = None):
        super().__init__()
        self.config = config
        self.head = head
        self.shortcuts = shortcuts if shortcuts is not None else nn.ModuleDict()
        missing = sorted(k for k, w in config.shortcut_weights.items() if w > 0 and k not in self.shortcuts)
        if missing:
            raise ValueError(f"the view blends tower shortcuts for {missing} but has none for them")

    def to(self, device) -> View:
        if self.head is not None:
            self.head = self.head.to(device)
        return super().to(device)

    def save(self, folder: Path) -> None:
        from .output_head import save_head

        target = folder / VIEW_FOLDER
        target.mkdir(parents=True, exist_ok=True)
        self.config.write(target / VIEW_CONFIG)
        if self.head is not None:
            save_head(self.head, target)
        save_shortcuts(self.shortcuts, target / SHORTCUTS_FILE)

    @classmethod
    def load(cls, folder: Path, dimension: int, new_shortcut) -> View | None:
        """The view saved in a model folder, or None; ``new_shortcut(kind)`` builds an empty shortcut to load into."""
        from .output_head import load_head

        target = folder / VIEW_FOLDER
        if not (target / VIEW_CONFIG).is_file():
            return None
        config = ViewConfig.read(target / VIEW_CONFIG)
        return cls(config, load_head(target, dimension), load_shortcuts(target / SHORTCUTS_FILE, new_shortcut))


def set_saved_view_shares(folder: Path, media_shares: dict[str, float]) -> ViewConfig:
    """Set media kinds' shares in the view saved in model folder ``folder`` (its weights untouched)."""
    path = folder / VIEW_FOLDER / VIEW_CONFIG
    if not path.is_file():
        raise ValueError(f"{folder} holds no view ({VIEW_FOLDER}/{VIEW_CONFIG})")
    config = ViewConfig.read(path)
    config = dataclasses.replace(config, media_shares={**config.media_shares, **media_shares})
    config.write(path)
    return config


def join_views(primary: torch.Tensor, view: torch.Tensor, shares: torch.Tensor) -> torch.Tensor:
    """(N, D) and (N, D') vectors and (N,) shares -> (N, D + D') ``[sqrt(1 - s) unit(primary), sqrt(s) unit(view)]``
    (a NaN row in either part stays NaN)."""
    shares = shares.to(primary.dtype)[:, None]
    return torch.cat(
        [(1 - shares).sqrt() * F.normalize(primary, dim=-1), shares.sqrt() * F.normalize(view, dim=-1)], dim=-1
    )


def llm_path_differences(first, second) -> list[str]:
    """What would give two embedders different LLM states for the same input (empty when none would): their
    configs apart from the shortcut weights, special-token rows, adapters, projectors and centers."""
    differences = []
    settings = [e.config.to_dict() for e in (first, second)]
    for s in settings:
        s.pop("shortcut_weights")
        s.pop("has_adapter")  # the adapters are compared below, weight by weight
    changed = sorted(k for k in settings[0] if settings[0][k] != settings[1].get(k))
    if changed:
        differences.append(f"config ({', '.join(changed)})")
    if first.config.backbone is None or second.config.backbone is None:
        differences.append("backbone (a folder's own backbone weights are not compared)")

    def same(a: dict, b: dict) -> bool:
        return a.keys() == b.keys() and all(torch.equal(a[k].cpu(), b[k].cpu()) for k in a)

    rows = [
        e.causal_lm.get_input_embeddings().weight.detach()[torch.tensor(e.special_token_ids)] for e in (first, second)
    ]
    if not torch.equal(rows[0].cpu(), rows[1].cpu()):  # False for other shapes too
        differences.append("special-token rows")
    adapters = [{n: p.detach() for n, p in e.model.named_parameters() if "lora_" in n} for e in (first, second)]
    if not same(*adapters):
        differences.append("LoRA adapter")
    if not same(*(e.modalities.projectors.state_dict() for e in (first, second))):
        differences.append("modality projectors")
    centers = [e.center for e in (first, second)]
    if (centers[0] is None) != (centers[1] is None) or (
        centers[0] is not None and not torch.equal(centers[0].cpu(), centers[1].cpu())
    ):
        differences.append("center")
    return differences


CARRIED_ACROSS = ("LoRA adapter", "modality projectors")  # what a stage on top of the view's model trains


def add_view(
    embedder,
    other,
    text_share: float,
    media_shares: dict[str, float] | None = None,
    source: str | None = None,
    carry_across: bool = False,
):
    """Give ``embedder`` a view: ``other``'s output head, tower shortcuts and shortcut weights, weighted by
    ``text_share`` (texts) and ``media_shares`` (per media kind). ``other`` must run the very same LLM path (same
    config, adapter, special-token rows, projectors and center): the view reads the states ``embedder`` computes.
    ``carry_across=True`` accepts another adapter and projectors (nothing else): a view fitted on a stage's parent,
    carried onto a stage whose anchors held the states the view reads (measure it: the view was fitted on other
    states). A calibration ``embedder`` had is dropped (the cosines change: run ``mmembed calibrate``), and so is a
    final shortcut (fitted onto the vectors without the view: fit it again). Returns ``embedder``."""
    for model, what in ((embedder, "the model"), (other, "the view's model")):
        if model.view is not None:
            raise ValueError(f"{what} already has a view; a model holds one")
    differences = llm_path_differences(embedder, other)
    carried = [d for d in differences if d in CARRIED_ACROSS] if carry_across else []
    differences = [d for d in differences if d not in carried]
    if differences:
        carriable = not carry_across and set(differences) <= set(CARRIED_ACROSS)
        hint = " (a view fitted on the parent of a LoRA stage: `mmembed add-view --carry-across`)" if carriable else ""
        raise ValueError(
            "the view's model runs another LLM path than the model (it differs in "
            f"{'; '.join(differences)}): a view reads the model's own states, so both must be fitted on one LLM" + hint
        )
    shortcuts = nn.ModuleDict({kind: shortcut for kind, shortcut in other.modalities.shortcuts.items()})
    config = ViewConfig(text_share, dict(media_shares or {}), dict(other.config.shortcut_weights), source, carried)
    head = other.head.clone() if other.head is not None else None
    embedder.view = View(config, head, shortcuts).to(embedder.device)
    embedder.calibration = None
    embedder.final_shortcut = None  # fitted onto the vectors without the view
    return embedder
