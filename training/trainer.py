"""The training loop: dataclass config in, a saved mmembed model folder out.

Seeds, LoRA (peft) on the backbone, trainable projectors, frozen towers with cached features, AdamW with warmup +
cosine decay, bf16 autocast on CUDA, checkpoints every N steps and resume after a kill (same next loss), a JSONL
metrics log and a PNG of the curves, tqdm progress. Multi-GPU: launch with ``torchrun``
(DistributedDataParallel, see training/distributed.py)."""

from __future__ import annotations

import dataclasses
import json
import random
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import get_cosine_schedule_with_warmup

import mmembed
from mmembed.data import read_manifest
from mmembed.training_items import FeatureItem

from .batches import Example, make_batch
from .checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .distributed import TrainStep, init_distributed, wrap
from .features import media_features
from .objectives import build_objectives, check_objective_sources
from .plots import plot_metrics
from .sampling import BatchPlan, check_source_weights


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def prepare_model(config: TrainConfig):
    """The embedder a stage starts from, its backbone made trainable as the config asks (LoRA, QLoRA, frozen)."""
    if config.quantization and not config.lora:
        raise ValueError("quantization (QLoRA) trains a LoRA adapter on the frozen 4-bit backbone: set lora too")
    embedder = mmembed.load(
        config.model, device=config.device, quantization=config.quantization, **config.model_overrides
    )
    lora = dataclasses.asdict(config.lora) if config.lora else None
    embedder.prepare_for_training(
        lora,
        bool(config.quantization),
        adapter_in_generation="next_token" in config.objectives,
        train_backbone=config.train_backbone,
    )
    return embedder


def build_examples(embedder, rows: list[dict], cache_dir: Path) -> list[Example]:
    features = media_features(embedder, rows, cache_dir)
    examples = []
    for i, row in enumerate(rows):
        kind = "image" if "image" in row else "audio" if "audio" in row else None
        if kind and i in features:
            examples.append(
                Example(FeatureItem(kind=kind, features=features[i]), row["text"], source=row.get("source"))
            )
        elif kind is None and row.get("positive"):
            examples.append(
                Example(
                    FeatureItem(text=row["positive"]), row["text"], tuple(row.get("negatives", [])), row.get("source")
                )
            )
    if not examples:
        raise ValueError(
            "no training pairs: the manifests need image/audio rows with text, or text rows with a positive"
        )
    return examples


def fit_center_on_examples(embedder, examples: list[Example], count: int = 256, batch_size: int = 32) -> None:
    """The centering vector from a sample of training pairs, both sides (items as documents, texts as queries)."""
    sample = [examples[i] for i in np.random.default_rng(0).permutation(len(examples))[:count]]
    embedder.fit_center([e.item for e in sample], [e.text for e in sample], batch_size=batch_size)


def sample_rows(rows: list[dict], config: TrainConfig) -> list[dict]:
    if config.max_rows_per_manifest is None or len(rows) <= config.max_rows_per_manifest:
        return rows
    keep = np.random.default_rng(config.seed).permutation(len(rows))[: config.max_rows_per_manifest]
    return [rows[i] for i in sorted(keep)]


def manifest_rows(config: TrainConfig) -> list[dict]:
    """The train split of every manifest (sampled down to ``max_rows_per_manifest``), each row with its source."""
    rows = []
    for manifest in config.manifests:
        for row in sample_rows(read_manifest(manifest, "train"), config):
            row.setdefault("source", Path(manifest).stem)
            rows.append(row)
    return rows


def train(
    config: TrainConfig, progress: bool = True, stop_after: int | None = None, examples: list[dict] | None = None
) -> Path:
    """Train; returns the saved model folder. ``stop_after`` ends the run early (tests of resume); ``examples``
    (as :func:`build_examples` makes them) skips reading manifests and towers, e.g. on a machine without the data."""
    distributed, device = init_distributed(config.device)
    config = dataclasses.replace(config, device=device)
    seed_everything(config.seed)
    output = Path(config.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    if distributed.is_main:
        (output / "config.json").write_text(json.dumps(config.to_dict(), indent=2))
    embedder = prepare_model(config)
    cache_dir = Path(config.feature_cache or output / "feature_cache")
    objectives = torch.nn.ModuleDict(build_objectives(config.objectives))
    if examples is None:
        rows = manifest_rows(config)
        if config.batching == "by_source":  # before minutes of tower features, not after
            check_source_weights([row["source"] for row in rows], config.source_weights)
        weights = config.source_weights or {}
        stepped = [row["source"] for row in rows if not weights or weights.get(row["source"], 0) > 0]
        check_objective_sources(objectives.values(), stepped, config.batching)
        for turn in ("main", "others"):  # rank 0 fills the feature cache, the others then read it
            if distributed.is_main == (turn == "main"):
                examples = build_examples(embedder, rows, cache_dir)
            distributed.barrier()
    plan = BatchPlan(
        [e.source or "all" for e in examples],
        config.batch_size,
        config.seed,
        config.steps,
        config.batching,
        config.source_weights,
    )
    if config.batching == "by_source" and distributed.is_main:
        print("train: batches by source, shares " + ", ".join(f"{k} {v:.2f}" for k, v in plan.shares.items()))
    if embedder.head is not None:  # fitted on the states this stage moves: refit it after (fit-shortcut --head)
        if distributed.is_main:
            print("train: the model's output head is dropped (fitted on the states this stage trains)")
        embedder.head = None
    if embedder.view is not None:  # the same: a view is a second head on these states (mmembed add-view)
        if distributed.is_main:
            print("train: the model's view is dropped (fitted on the states this stage trains)")
        embedder.view = None
    if embedder.final_shortcut is not None:  # fitted onto the vectors this stage moves
        if distributed.is_main:
            print("train: the model's final shortcut is dropped (fitted onto the vectors this stage moves)")
        embedder.final_shortcut = None
    if config.center:  # (re)fitted at the start of every stage: an earlier stage moved the states
        fit_center_on_examples(embedder, examples)
    for objective in objectives.values():
        objective.prepare(embedder)
        objective.prepare_examples(embedder, examples, cache_dir)
    objectives.to(embedder.device)
    modules = {**embedder.trainable_modules(), "objectives": objectives}
    step_module = wrap(TrainStep(embedder, objectives), distributed, embedder.device)
    backbone_params = [p for p in modules["model"].parameters() if p.requires_grad]
    other_params = [p for m in (modules["projectors"], objectives) for p in m.parameters() if p.requires_grad]
    groups = [(backbone_params, config.learning_rate), (other_params, config.projector_learning_rate)]
    optimizer = torch.optim.AdamW(
        [{"params": params, "lr": lr} for params, lr in groups if params], weight_decay=config.weight_decay
    )

    scheduler = get_cosine_schedule_with_warmup(optimizer, config.warmup_steps, config.steps)
    checkpoints = output / "checkpoints"
    start = 0
    if (found := latest_checkpoint(checkpoints)) is not None:
        start = load_checkpoint(found, modules, optimizer, scheduler)
        print(f"train: resumed from {found} at step {start}")
    metrics_file = output / "metrics.jsonl"
    autocast = embedder.device.type == "cuda" and config.bf16
    began = time.perf_counter()
    bar = tqdm(
        range(start, config.steps),
        desc="train",
        unit="step",
        disable=not (progress and distributed.is_main),
        initial=start,
        total=config.steps,
    )
    for step in bar:
        indices = distributed.shard(plan.indices(step))
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
            total, metrics = step_module(make_batch(examples, indices))
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(backbone_params + other_params, 1.0)
        optimizer.step()
        scheduler.step()
        logged = step % config.log_every == 0 or step == config.steps - 1
        loss = distributed.mean(total) if logged or progress else None
        bar.set_postfix(loss=f"{loss:.3f}" if loss is not None else "")
        if logged and distributed.is_main:
            extra = {"world_size": distributed.world_size} if distributed.enabled else {}
            if plan.source(step):
                extra["source"] = plan.source(step)
            with open(metrics_file, "a") as handle:
                handle.write(
                    json.dumps(
                        {
                            "step": step,
                            "loss": loss,
                            **metrics,
                            "lr": scheduler.get_last_lr()[0],
                            "seconds": time.perf_counter() - began,
                            **extra,
                        }
                    )
                    + "\n"
                )
        done = step + 1
        if (done % config.checkpoint_every == 0 or done == config.steps) and distributed.is_main:
            save_checkpoint(checkpoints, done, modules, optimizer, scheduler)
        if stop_after is not None and done >= stop_after:
            distributed.barrier()
            distributed.close()
            return checkpoints
    distributed.check_in_sync(backbone_params + other_params)
    modules["model"].eval()
    model_folder = output / "model"
    if distributed.is_main:
        embedder.save_pretrained(model_folder)
        if metrics_file.is_file():
            plot_metrics(metrics_file, output / "curves.png")
    distributed.barrier()
    distributed.close()
    return model_folder
