"""The embedder's configuration: one dataclass, saved as JSON inside every model folder."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from encoders.config import AudioTowerConfig, ImageTowerConfig

CONFIG_NAME = "mmembed_config.json"
FORMAT_VERSION = 1

POOLING_MODES = ("last", "mean", "weighted_mean")
ATTENTION_MODES = ("causal", "bidirectional")

DEFAULT_INSTRUCTIONS = {
    "query": "Given a search query, retrieve the documents, images and sounds that match it.",
    "document": "",
    "sts": "Retrieve text that is semantically similar to the given text.",
    "classification": "Classify the given input by its topic.",
}


@dataclass
class EmbedderConfig:
    """Everything needed to rebuild an embedder from its folder.

    backbone: where the decoder LLM comes from: a packaged name (``smollm2-135m-instruct``), a local folder or
        .gguf file, or any Hugging Face causal-LM id. ``None`` when the folder carries the backbone weights itself.
    pooling: ``last`` (the hidden state of the ``<|embed|>`` mode token), ``mean`` or ``weighted_mean``
        (position-weighted, SGPT); mean poolings cover the content and the mode token, never the instruction.
    attention: ``causal`` or ``bidirectional`` in embedding mode (generation is always causal).
    instructions: named task instructions (like sentence-transformers' ``prompts``); ``default_instruction`` names
        the one used when ``encode`` is given none.
    """

    backbone: str | None = "smollm2-135m-instruct"
    pooling: str = "mean"
    attention: str = "causal"
    normalize: bool = True
    max_length: int = 512
    embed_token: str = "<|embed|>"
    instruction_template: str = "{instruction}\n"
    instructions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_INSTRUCTIONS))
    default_instruction: str = "document"
    attn_implementation: str = "sdpa"
    dimension: int | None = None  # filled in from the backbone's hidden size
    has_adapter: bool = False
    adapter_in_generation: bool = (
        False  # False: generate() runs the untouched backbone (adapter trained for embedding only)
    )
    image_tower: dict | None = None  # encoders.ImageTowerConfig fields; None: no image input
    audio_tower: dict | None = None  # encoders.AudioTowerConfig fields; None: no audio input
    image_token: str = "<image>"
    audio_token: str = "<audio>"
    projector_hidden_dim: int | None = None  # defaults to the LLM's hidden size
    # per media kind, the tower shortcut's share of an item's vector (encoders/shortcut.py; `mmembed fit-shortcut`)
    shortcut_weights: dict[str, float] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if self.pooling not in POOLING_MODES:
            raise ValueError(f"pooling must be one of {POOLING_MODES}, got {self.pooling!r}")
        if self.attention not in ATTENTION_MODES:
            raise ValueError(f"attention must be one of {ATTENTION_MODES}, got {self.attention!r}")
        if self.max_length < 8:
            raise ValueError(f"max_length must be at least 8 tokens, got {self.max_length}")
        if "{instruction}" not in self.instruction_template:
            raise ValueError("instruction_template must contain '{instruction}'")
        if self.image_tower is not None:
            ImageTowerConfig(**self.image_tower)  # validates; the tower itself is built on first use
        if self.audio_tower is not None:
            AudioTowerConfig(**self.audio_tower)
        for kind, weight in self.shortcut_weights.items():
            if kind not in ("image", "audio") or getattr(self, f"{kind}_tower") is None:
                raise ValueError(f"shortcut_weights: {kind!r} is not a media tower of this model")
            if not 0.0 <= weight <= 1.0:
                raise ValueError(f"shortcut_weights[{kind!r}] must be in [0, 1], got {weight}")
        if self.default_instruction not in self.instructions:
            raise ValueError(f"default_instruction {self.default_instruction!r} is not in instructions")

    @property
    def special_tokens(self) -> list[str]:
        """The tokens the model adds, in the order of their saved rows: the mode token, then each media kind's."""
        kinds = [kind for kind in ("image", "audio") if getattr(self, f"{kind}_tower") is not None]
        return [self.embed_token, *(getattr(self, f"{kind}_token") for kind in kinds)]

    def instruction_text(self, instruction: str | None) -> str:
        """The prefix for a named instruction, a literal instruction, or the default one ('' for none)."""
        if instruction is None:
            instruction = self.default_instruction
        text = self.instructions.get(instruction, instruction)
        return self.instruction_template.format(instruction=text) if text else ""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> EmbedderConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown keys in the embedder config: {unknown}")
        if data.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
            raise ValueError(
                f"this model folder has format_version {data['format_version']}; this mmembed reads up to "
                f"{FORMAT_VERSION}: upgrade mmembed"
            )
        return cls(**data)

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / CONFIG_NAME
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def load(cls, folder: str | Path) -> EmbedderConfig:
        path = Path(folder) / CONFIG_NAME
        if not path.is_file():
            raise FileNotFoundError(f"{folder} is not an mmembed model folder: {CONFIG_NAME} is missing")
        return cls.from_dict(json.loads(path.read_text()))
