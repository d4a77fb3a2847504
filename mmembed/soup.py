"""Model soups: a weighted average of the trained tensors of checkpoints of one recipe (Wortsman et al. 2022).

Two checkpoints along one fine-tuning run (a stage and its parent, or two arms from one parent) often keep what each
gained when their weights are averaged. The soup is file by file: every tensor in the folders' ``.safetensors``
files (LoRA A and B, projectors, shortcuts, center, mode-token rows, a view's head) becomes ``sum_i w_i t_i``;
everything else (config, tokenizer, adapter config) must agree, so only checkpoints that load into the same model are
mixed. LoRA's A and B are averaged separately, as LoRA soups do; that is not the average of the products B A, which
is why the ingredients should share their lineage (one run, one parent), and why a soup is evaluated before it is used.
The calibration is dropped (a new space needs its own fit) and ``soup.json`` records the ingredients.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

CONFIG_FILE = "mmembed_config.json"
SOUP_FILE = "soup.json"
DROPPED = ("calibration.json", SOUP_FILE)  # a fit of the ingredient's space, and an ingredient's own recipe
FREE_TEXT = ("README.md",)  # peft's model card: written per save, taken from the first ingredient
OPTIONAL = "tokenizer/"  # written only where the backbone cannot rebuild it (serialization.py); either way mixes


@dataclass
class SoupReport:
    """What a soup did: the ingredients, their normalised weights, and per averaged file how far the ingredients
    were apart (max over ingredients of ||t_i - t_0|| / ||t_0||, over the file's tensors)."""

    models: list[str]
    weights: list[float]
    averaged: dict[str, float] = field(default_factory=dict)
    identical: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def _files(folder: Path, optional: bool = True) -> set[str]:
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - set(DROPPED)
    return files if optional else {rel for rel in files if not rel.startswith(OPTIONAL)}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _same_settings(paths: list[Path]) -> bool:
    """JSON files that say the same, however written: keys in any order, and an adapter config's set-valued fields
    (peft writes ``target_modules`` as a list in whatever order the set iterates) compared as peft reads them."""
    if paths[0].name == "adapter_config.json":
        from peft import PeftConfig

        configs = [PeftConfig.from_pretrained(str(path.parent)) for path in paths]
        return all(config == configs[0] for config in configs[1:])
    return len({json.dumps(json.loads(path.read_text()), sort_keys=True) for path in paths}) == 1


def _config_differences(configs: list[dict], names: list[str]) -> list[str]:
    first = configs[0]
    problems = []
    for name, config in zip(names[1:], configs[1:]):
        for key in sorted(set(first) | set(config)):
            if first.get(key) != config.get(key):
                problems.append(f"{key!r} is {first.get(key)!r} in {names[0]} but {config.get(key)!r} in {name}")
    return problems


def _check_recipe(folders: list[Path], names: list[str]) -> None:
    for folder, name in zip(folders, names):
        if not (folder / CONFIG_FILE).is_file():
            raise ValueError(f"{name}: not an mmembed model folder (no {CONFIG_FILE})")
    configs = [json.loads((folder / CONFIG_FILE).read_text()) for folder in folders]
    problems = _config_differences(configs, names)
    if problems:
        raise ValueError("the models are not one recipe, so their weights cannot be averaged: " + "; ".join(problems))
    files = [_files(folder, optional=False) for folder in folders]
    for name, own in zip(names[1:], files[1:]):
        if own != files[0]:
            only_first, only_other = sorted(files[0] - own), sorted(own - files[0])
            raise ValueError(
                f"{names[0]} and {name} hold different files (only in {names[0]}: {only_first or 'none'}; "
                f"only in {name}: {only_other or 'none'})"
            )


def _average_file(paths: list[Path], weights: list[float], names: list[str], rel: str):
    """The weighted average of one ``.safetensors`` file, its metadata, and the ingredients' relative distance."""
    handles = [safe_open(str(path), framework="pt") for path in paths]
    keys = [set(handle.keys()) for handle in handles]
    for name, own in zip(names[1:], keys[1:]):
        if own != keys[0]:
            raise ValueError(f"{rel}: {name} holds other tensors than {names[0]} ({sorted(own ^ keys[0])[:5]} ...)")
    averaged, moved, norm = {}, [0.0] * len(paths), 0.0
    for key in sorted(keys[0]):
        tensors = [handle.get_tensor(key) for handle in handles]
        for name, tensor in zip(names[1:], tensors[1:]):
            if tensor.shape != tensors[0].shape or tensor.dtype != tensors[0].dtype:
                raise ValueError(
                    f"{rel}: tensor {key!r} is {tuple(tensors[0].shape)} {tensors[0].dtype} in {names[0]} but "
                    f"{tuple(tensor.shape)} {tensor.dtype} in {name}"
                )
        if all(torch.equal(tensors[0], tensor) for tensor in tensors[1:]):
            averaged[key] = tensors[0]  # bit for bit: sum w_i t rounds differently from t
        elif not tensors[0].is_floating_point():
            raise ValueError(f"{rel}: tensor {key!r} is {tensors[0].dtype} and differs between the models")
        else:
            total = weights[0] * tensors[0]
            for weight, tensor in zip(weights[1:], tensors[1:]):
                total = total + weight * tensor
            averaged[key] = total.contiguous()
        if tensors[0].is_floating_point():  # integer tensors are equal here (checked above): no distance
            first = tensors[0].double()
            norm += float(first.square().sum())
            for i, tensor in enumerate(tensors):
                moved[i] += float((tensor.double() - first).square().sum())
    distance = math.sqrt(max(moved)) / math.sqrt(norm) if norm > 0 else 0.0
    return averaged, handles[0].metadata(), distance


def soup(models: list[str | Path], out: str | Path, weights: list[float] | None = None) -> SoupReport:
    """Write the weighted average of ``models`` (mmembed model folders or shipped names) into ``out``.

    ``weights`` (one per model, >= 0, default equal) are normalised to sum to 1. ``out`` must be new or empty.
    """
    from .checkpoints import shipped_checkpoint
    from .serialization import require_new_folder

    names = [str(model) for model in models]
    if len(names) < 2:
        raise ValueError(f"a soup needs at least two models, got {len(names)}")
    weights = [1.0] * len(names) if weights is None else [float(w) for w in weights]
    if len(weights) != len(names):
        raise ValueError(f"give one weight per model: {len(names)} models but {len(weights)} weights")
    if any(not math.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"the weights must be >= 0 with a positive sum, got {weights}")
    weights = [w / sum(weights) for w in weights]
    folders = [Path(shipped_checkpoint(name) or name) for name in names]
    out = Path(out)
    require_new_folder(out)
    _check_recipe(folders, names)

    report = SoupReport(models=names, weights=weights)
    report.dropped = sorted(rel for rel in DROPPED if (folders[0] / rel).is_file())
    out.mkdir(parents=True, exist_ok=True)
    try:
        for rel in sorted(set().union(*(_files(folder) for folder in folders))):
            paths = [folder / rel for folder in folders if (folder / rel).is_file()]  # an OPTIONAL file: its holders
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if len({_digest(path) for path in paths}) == 1:
                shutil.copyfile(paths[0], target)
                report.identical.append(rel)
            elif rel.endswith(".safetensors"):
                tensors, metadata, distance = _average_file(paths, weights, names, rel)
                save_file(tensors, str(target), metadata=metadata)
                report.averaged[rel] = distance
            elif rel.endswith(".json") and _same_settings(paths):
                shutil.copyfile(paths[0], target)  # the same settings, written another way
                report.identical.append(rel)
            elif Path(rel).name in FREE_TEXT:
                shutil.copyfile(paths[0], target)
                report.identical.append(rel)
            else:
                raise ValueError(f"{rel} differs between the models and is not a weights file to average")
        (out / SOUP_FILE).write_text(json.dumps(asdict(report), indent=2) + "\n")
    except Exception:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return report
