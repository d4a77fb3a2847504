"""Training configuration: one dataclass, read from YAML (``mmembed train CONFIG.yaml``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .sampling import check_batching


@dataclass
class LoraSettings:
    r: int = 8
    alpha: int = 16
    dropout: float = 0.0
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])


@dataclass
class TrainConfig:
    model: str = "smollm2-135m-instruct"  # a backbone source or a saved mmembed folder to continue from
    model_overrides: dict = field(default_factory=dict)  # EmbedderConfig fields for a new model (pooling, towers, ...)
    manifests: list[str] = field(default_factory=list)
    objectives: dict = field(default_factory=lambda: {"infonce": {}})  # name -> settings, see training.objectives
    output_dir: str = "runs/default"
    steps: int = 300
    batch_size: int = 32
    learning_rate: float = 2e-4
    projector_learning_rate: float = 1e-3
    weight_decay: float = 0.0
    warmup_steps: int = 20
    lora: LoraSettings | None = field(default_factory=LoraSettings)
    train_backbone: bool = True  # false: the backbone and its adapter stay frozen, only the projectors train
    quantization: str | None = None  # "4bit": QLoRA, the frozen backbone in NF4 under the LoRA adapter (bitsandbytes)
    seed: int = 0
    checkpoint_every: int = 100
    log_every: int = 10
    device: str | None = None
    bf16: bool = True  # autocast on CUDA only
    center: bool = True  # fit the centering vector on the training data before training (mmembed/centering.py)
    max_rows_per_manifest: int | None = None  # a seeded sample of each manifest's train split (balances big sources)
    batching: str = "mixed"  # "mixed", or "by_source": each batch from one source (training/sampling.py)
    source_weights: dict | None = None  # by_source: share of the steps per source (rows' "source"); default by size
    feature_cache: str | None = (
        None  # where cached tower features live (default OUTPUT_DIR/feature_cache); share it across runs
    )

    def __post_init__(self):
        check_batching(self.batching)

    @classmethod
    def from_yaml(cls, path: str | Path) -> TrainConfig:
        data = yaml.safe_load(Path(path).read_text()) or {}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{path}: unknown keys {unknown}")
        if isinstance(data.get("lora"), dict):
            data["lora"] = LoraSettings(**data["lora"])
        config = cls(**data)
        base = Path(path).parent
        config.manifests = [str(base / m) if not Path(m).is_absolute() else m for m in config.manifests]
        if config.model.startswith((".", "/")):  # a folder of an earlier stage, written relative to this file
            config.model = str(base / config.model)
        if config.feature_cache and not Path(config.feature_cache).is_absolute():
            config.feature_cache = str(base / config.feature_cache)
        return config

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
