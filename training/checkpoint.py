"""Checkpoints of what trains (LoRA, projectors, objective parameters) and of the optimizer, for resume after a kill.
Weights are safetensors; the optimizer state loads with ``torch.load(weights_only=True)``."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def trainable_state(modules: dict[str, torch.nn.Module]) -> dict[str, torch.Tensor]:
    return {
        f"{prefix}.{name}": p.detach().cpu().contiguous()
        for prefix, module in modules.items()
        for name, p in module.named_parameters()
        if p.requires_grad
    }


def save_checkpoint(folder: Path, step: int, modules: dict, optimizer, scheduler) -> Path:
    target = folder / f"step-{step:07d}"
    tmp = folder / f".tmp-step-{step:07d}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(trainable_state(modules), str(tmp / "trainable.safetensors"))
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, tmp / "optimizer.pt")
    (tmp / "state.json").write_text(json.dumps({"step": step}))
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)  # a kill never leaves a half-written checkpoint under a real name
    return target


def latest_checkpoint(folder: Path) -> Path | None:
    found = sorted(p for p in folder.glob("step-*") if (p / "state.json").is_file())
    return found[-1] if found else None


def load_checkpoint(path: Path, modules: dict, optimizer, scheduler) -> int:
    state = load_file(str(path / "trainable.safetensors"))
    with torch.no_grad():
        for prefix, module in modules.items():
            for name, p in module.named_parameters():
                key = f"{prefix}.{name}"
                if p.requires_grad and key in state:
                    p.copy_(state[key].to(p.device, p.dtype))
    saved = torch.load(path / "optimizer.pt", weights_only=True, map_location="cpu")
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    return json.loads((path / "state.json").read_text())["step"]
