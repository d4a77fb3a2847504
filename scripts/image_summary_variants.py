"""Which tower features should the final image map read? Variants of its input, each fitted as ``fit-shortcut
--final`` fits the map (MLP 2,048 wide, dropout 0.2, 400 AdamW steps of 1,024 pairs onto the model's final query
vectors) on the non-check training pairs of the four image sources, and scored as its weight is chosen: the mean of
both directions' mAP per source on the check rows (held-out training captions) and on the selection rows (train splits
of glyphs and Fashion-MNIST, never trained on), at b = 0.5 and at the best b; the score is the two sets' means,
averaged. The held-out test splits are not read.

Variants: the last layer's mean over the image (what the shipped map reads, as ``raw``), with EfficientNet-Lite0
blocks' per-channel mean and standard deviation over the image beside it, each either raw, standardized per feature
(``z``: minus the fit rows' mean, over their standard deviation), standardized in the summary only (``summary-z``: the
last layer raw) or per group (``group``: each feature group centred and scaled to unit total variance); the ``2 x 2
grid`` is the four soft tokens' last-layer features side by side (``fit-shortcut --final --final-tokens
side-by-side``). A map may name its steps (400 otherwise) and seed (0), then a dict of the MLP's settings (hidden
width 2,048, dropout 0.2, weight decay 0.01 otherwise). A variant of two maps fits each on its own
and reads the mean of their unit outputs; a variant named "distilled" fits its maps so, then one map onto their mean
(``distilled_variant``) and reads that map alone. Each line names the per-source check and selection figures at b = 0.5
below the table row. Usage (README, "g1.4: the image summary"; 35 min on 2 CPU cores, most of it the tower and the
model's own image vectors, cached in runs/image-summary-variants/; ``--only`` runs the variants whose names hold one
of its words):

    python scripts/image_summary_variants.py mmembed-multisource-g1.3 [--only summary-z "two maps"]
"""

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from tqdm import tqdm

import mmembed
from encoders import ImageTowerConfig, open_image
from encoders.config import EFFICIENTNET_LITE0_CHANNELS
from encoders.grid_pooling import pool_grid
from encoders.image_towers import EfficientNetLite0Tower
from encoders.shortcut import Shortcut, ShortcutEnsemble
from mmembed.contrastive import shared_targets, symmetric_clip_loss
from mmembed.data.manifest import read_manifest
from mmembed.evaluation.lit_peer import endless_batches
from mmembed.evaluation.transcript_weight import source_map
from training.final_shortcut import caption_rows, final_queries
from training.shortcut import is_check

FIT, SELECT = ["tuxpaint", "emoji", "fluent-emoji", "tabler-icons"], ["glyphs", "fashion-mnist"]
BLOCKS = (4, 7, 10, 14, 15)  # each stage's last block at 28x28, 14x14 (two) and 7x7 (two)
WEIGHTS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0)
CACHE = Path("runs/image-summary-variants")
BLOCK_KEYS = {blocks: ["head_mean"] + [f"b{i}_{s}" for i in blocks for s in ("mean", "std")] for blocks in
              [(14, 15), (10, 14, 15), BLOCKS]}  # fmt: skip
LAST, SUMMARY = (["head_mean"], "raw"), (BLOCK_KEYS[(10, 14, 15)], "raw")
VARIANTS = {  # each a list of maps: (feature keys, scaling)
    "last layer, raw (shipped)": [LAST],
    "last layer, z": [(["head_mean"], "z")],
    "last layer + its max and spread, z": [(["head_mean", "head_max", "head_std"], "z")],
    "+ blocks 14, 15, z": [(BLOCK_KEYS[(14, 15)], "z")],
    "+ blocks 10, 14, 15, z": [(BLOCK_KEYS[(10, 14, 15)], "z")],
    "+ blocks 10, 14, 15, raw": [SUMMARY],
    "+ blocks 10, 14, 15, summary-z": [(BLOCK_KEYS[(10, 14, 15)], "summary-z")],
    "+ blocks 14, 15, summary-z": [(BLOCK_KEYS[(14, 15)], "summary-z")],
    "+ blocks 4, 7, 10, 14, 15, summary-z": [(BLOCK_KEYS[BLOCKS], "summary-z")],
    "+ its max and spread, blocks 10, 14, 15, summary-z": [
        (["head_mean", "head_max", "head_std"] + BLOCK_KEYS[(10, 14, 15)][1:], "summary-z")
    ],
    "2 x 2 grid, raw": [(["head_grid"], "raw")],
    "2 x 2 grid + blocks 10, 14, 15, summary-z": [(["head_grid"] + BLOCK_KEYS[(10, 14, 15)][1:], "summary-z")],
    "2 x 2 grid + blocks 10, 14, 15, summary-z, 800 steps": [
        (["head_grid"] + BLOCK_KEYS[(10, 14, 15)][1:], "summary-z", 800)
    ],
    "+ blocks 10, 14, 15, summary-z, 800 steps": [(BLOCK_KEYS[(10, 14, 15)], "summary-z", 800)],
    "+ blocks 10, 14, 15, summary-z, 200 steps": [(BLOCK_KEYS[(10, 14, 15)], "summary-z", 200)],
    "2 x 2 grid + blocks 10, 14, 15, summary-z, 200 steps": [
        (["head_grid"] + BLOCK_KEYS[(10, 14, 15)][1:], "summary-z", 200)
    ],
    "+ blocks 10, 14, 15, group": [(BLOCK_KEYS[(10, 14, 15)], "group")],
    "+ blocks 4, 7, 10, 14, 15, z": [(BLOCK_KEYS[BLOCKS], "z")],
    "+ blocks 10, 14, 15, summary-z, map dropout 0.5": [(BLOCK_KEYS[(10, 14, 15)], "summary-z", {"dropout": 0.5})],
    "+ blocks 10, 14, 15, summary-z, map weight decay 0.1": [
        (BLOCK_KEYS[(10, 14, 15)], "summary-z", {"weight_decay": 0.1})
    ],
    "+ blocks 10, 14, 15, summary-z, map hidden 4096": [(BLOCK_KEYS[(10, 14, 15)], "summary-z", {"hidden": 4096})],
    "+ blocks 10, 14, 15, summary-z, map hidden 1024": [(BLOCK_KEYS[(10, 14, 15)], "summary-z", {"hidden": 1024})],
    "distilled: one map onto four seeds of + blocks 10, 14, 15 summary-z": [
        (BLOCK_KEYS[(10, 14, 15)], "summary-z", 400, seed) for seed in range(4)
    ],
    "four maps: + blocks 10, 14, 15 summary-z, seeds 0-3": [
        (BLOCK_KEYS[(10, 14, 15)], "summary-z", 400, seed) for seed in range(4)
    ],
    "two maps: last layer raw, + blocks 10, 14, 15 raw": [LAST, SUMMARY],
    "two maps: last layer raw, + blocks 10, 14, 15 z": [LAST, (BLOCK_KEYS[(10, 14, 15)], "z")],
    "two maps: + blocks 10, 14, 15 summary-z, seeds 0 and 1": [
        (BLOCK_KEYS[(10, 14, 15)], "summary-z"),
        (BLOCK_KEYS[(10, 14, 15)], "summary-z", 400, 1),
    ],
    "two maps: + blocks 10, 14, 15 summary-z, 2 x 2 grid + them summary-z": [
        (BLOCK_KEYS[(10, 14, 15)], "summary-z"),
        (["head_grid"] + BLOCK_KEYS[(10, 14, 15)][1:], "summary-z"),
    ],
}


def summary_parts(grid: torch.Tensor, summary: torch.Tensor, blocks: tuple[int, ...]) -> dict[str, torch.Tensor]:
    """A batch's last layer mean over the image (``head_mean``) and each block's mean and spread, by key."""
    parts = {"head_mean": grid.mean(1)}
    widths = [2 * EFFICIENTNET_LITE0_CHANNELS[i] for i in blocks]
    for block, part in zip(blocks, summary.split(widths, dim=1)):
        parts[f"b{block}_mean"], parts[f"b{block}_std"] = part.chunk(2, dim=1)
    return parts


def tower_features(paths: list[str]) -> dict[str, torch.Tensor]:
    """Per image: the last layer's mean, max and spread over the image, and each of BLOCKS' mean and spread."""
    target = CACHE / "features.safetensors"
    if target.is_file():
        return load_file(str(target))
    tower = EfficientNetLite0Tower(ImageTowerConfig(summary_blocks=BLOCKS))
    features: dict[str, list] = {}
    with torch.no_grad():
        for start in tqdm(range(0, len(paths), 32), desc="tower", unit="batch"):
            pixels = torch.stack([tower.preprocess(open_image(p)) for p in paths[start : start + 32]])
            grid, summary = tower.grid_and_summary(pixels)
            parts = summary_parts(grid, summary, BLOCKS)
            parts.update(head_max=grid.amax(1), head_std=grid.std(1))
            parts["head_grid"] = pool_grid(grid, tower.grid, 4).flatten(1)  # the soft tokens side by side (2 x 2)
            for key, value in parts.items():
                features.setdefault(key, []).append(value)
    return saved(features, target)


def saved(features: dict[str, list], target: Path) -> dict[str, torch.Tensor]:
    """Each key's batches joined, written to ``target`` (safetensors) and returned."""
    tensors = {key: torch.cat(values).contiguous() for key, values in features.items()}
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(target))
    return tensors


def own_vectors(model, name: str, rows: list[dict]) -> np.ndarray:
    """The model's own image vectors (its final image map at 0), cached."""
    target = CACHE / f"own-{name}.npy"
    if not target.is_file():
        with model.overrides(final_weights={"image": 0.0}):
            vectors = model.encode([Path(r["image"]) for r in rows], 32, "document", on_error="nan",
                                   show_progress_bar=True)  # fmt: skip
        np.save(target, vectors)
    return np.load(target)


def fit_map(
    x: torch.Tensor,
    texts: torch.Tensor,
    captions: list[str],
    steps: int = 400,
    seed: int = 0,
    hidden: int = 2048,
    dropout: float = 0.2,
    weight_decay: float = 1e-2,
) -> Shortcut:
    torch.manual_seed(seed)
    ids = {c: i for i, c in enumerate(sorted(set(captions)))}
    caption_ids = torch.tensor([ids[c] for c in captions])
    shortcut = Shortcut(x.shape[1], texts.shape[1], hidden, dropout).train()
    log_scale = torch.nn.Parameter(torch.tensor(float(np.log(1 / 0.07))))
    optimizer = torch.optim.AdamW(
        [{"params": shortcut.parameters(), "weight_decay": weight_decay}, {"params": [log_scale]}], lr=1e-3
    )
    batches = endless_batches(len(x), 1024, torch.Generator().manual_seed(seed))
    for _ in range(steps):
        pick = next(batches)
        items = F.normalize(shortcut(x[pick]), dim=-1)
        loss = symmetric_clip_loss(
            items, texts[pick], log_scale.exp().clamp(max=100), shared_targets(caption_ids[pick])
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return shortcut.eval()


def scaling_of(x: torch.Tensor, widths: list[int], scaling: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(shift, scale) that standardize the fit rows' features ``x`` (groups of ``widths`` columns) as named."""
    if scaling == "raw":
        return torch.zeros(x.shape[1]), torch.ones(x.shape[1])
    if scaling == "summary-z":  # the first group (the last layer) raw, the summary standardized per feature
        shift, scale = x.mean(0), x.std(0) + 1e-6
        shift[: widths[0]], scale[: widths[0]] = 0.0, 1.0
        return shift, scale
    if scaling == "group":
        groups = [float(part.var(0).sum().sqrt()) for part in x.split(widths, dim=1)]
        return x.mean(0), torch.cat([torch.full((w,), g) for w, g in zip(widths, groups)])
    return x.mean(0), x.std(0) + 1e-6


def set_scores(own: np.ndarray, mapped: np.ndarray, part: list[dict], queries: dict) -> dict[float, dict[str, float]]:
    """Per weight b and source, both directions' mean mAP of the blend ``(1 - b) own + b mapped``."""
    scores = {}
    for b in WEIGHTS:
        blend = (1 - b) * own + b * mapped
        blend /= np.linalg.norm(blend, axis=1, keepdims=True)
        scores[b] = {}
        for source in sorted({r["source"] for r in part}):
            ix = [i for i, r in enumerate(part) if r["source"] == source]
            scores[b][source] = source_map(blend[ix], [part[i]["text"] for i in ix], queries)
    return scores


def fit_variant_map(x: torch.Tensor, texts: torch.Tensor, captions: list[str], options: list) -> Shortcut:
    """``fit_map`` with a variant map's options: its steps (400) and seed (0), then a dict of fit_map's settings."""
    settings = options[-1] if options and isinstance(options[-1], dict) else {}
    return fit_map(x, texts, captions, *options[: len(options) - bool(settings)], **settings)


def fitted_variant(maps: list, features: dict, columns: list, texts: torch.Tensor, captions: list[str]):
    """Fit each of ``maps`` ((keys, scaling)) on the fit columns; return the variant's width and a function of a
    column list to the mean of the maps' unit outputs, renormalized."""
    fitted = []
    for keys, scaling, *options in maps:
        x = torch.cat([features[k][columns] for k in keys], dim=1).float()
        shift, scale = scaling_of(x, [features[k].shape[1] for k in keys], scaling)
        fitted.append((keys, shift, scale, fit_variant_map((x - shift) / scale, texts, captions, options)))

    def mapped(rows: list[int]) -> np.ndarray:
        outputs = []
        with torch.no_grad():
            for keys, shift, scale, shortcut in fitted:
                x = torch.cat([features[k][rows] for k in keys], dim=1).float()
                outputs.append(F.normalize(shortcut((x - shift) / scale), dim=-1))
        return F.normalize(torch.stack(outputs).mean(0), dim=-1).numpy()

    return sum(len(s) for _, s, _, _ in fitted), mapped


def distilled_variant(maps: list, features: dict, columns: list, texts: torch.Tensor, captions: list[str]):
    """Fit ``maps`` (one set of features and scaling, seeds apart) as an ensemble, then one student map (their
    features, scaling and MLP) onto the ensemble's unit outputs: 1 - cosine on the fit rows and on mixtures of two
    fit rows (a random share of each, so the student also learns the ensemble between the items it was fitted on).
    The variant reads the student alone: one map's size."""
    keys, scaling = maps[0][0], maps[0][1]
    if any((m[0], m[1]) != (keys, scaling) for m in maps):
        raise ValueError("a distilled variant's maps read one set of features, scaled alike")
    x = torch.cat([features[k][columns] for k in keys], dim=1).float()
    shift, scale = scaling_of(x, [features[k].shape[1] for k in keys], scaling)
    x = (x - shift) / scale
    ensemble = ShortcutEnsemble([fit_variant_map(x, texts, captions, options) for _, _, *options in maps]).eval()

    def teacher(inputs: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return F.normalize(ensemble(inputs), dim=-1)

    torch.manual_seed(0)
    student = Shortcut(x.shape[1], texts.shape[1], 2048, 0.2).train()
    optimizer = torch.optim.AdamW(student.parameters(), lr=1e-3, weight_decay=1e-2)
    generator = torch.Generator().manual_seed(0)
    batches = endless_batches(len(x), 1024, generator)
    for _ in tqdm(range(DISTIL_STEPS), desc="student", unit="step"):
        pick = next(batches)
        other = torch.randint(len(x), (len(pick),), generator=generator)
        share = torch.rand(len(pick), 1, generator=generator)
        inputs = torch.cat([x[pick], share * x[pick] + (1 - share) * x[other]])
        loss = (1 - F.cosine_similarity(student(inputs), teacher(inputs), dim=-1)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    student.eval()

    def mapped(rows: list[int]) -> np.ndarray:
        with torch.no_grad():
            rows_x = torch.cat([features[k][rows] for k in keys], dim=1).float()
            return F.normalize(student((rows_x - shift) / scale), dim=-1).numpy()

    return len(shift), mapped


DISTIL_STEPS = 800


def variant_rows() -> tuple[list[dict], list[dict], dict[str, list[dict]], list[str]]:
    """The four image sources' training rows, the fit rows among them, the check and selection sets, every path."""
    rows = [r for s in FIT for r in caption_rows(read_manifest(f"data/{s}.jsonl", "train")) if "image" in r]
    fitted = [r for r in rows if not is_check(r["text"], 0.1, 0)]
    sets = {
        "check": [r for r in rows if is_check(r["text"], 0.1, 0)],
        "select": [r for s in SELECT for r in caption_rows(read_manifest(f"data/{s}.jsonl", "train")) if "image" in r],
    }
    return rows, fitted, sets, sorted({r["image"] for r in rows + sets["select"]})


def model_side(model_name: str, rows: list[dict], sets: dict[str, list[dict]]):
    """The model's query vectors of every caption, and each set's decodable rows with its own image vectors."""
    model = mmembed.load(model_name)
    cache = Path("runs/feature_cache")
    queries = final_queries(model, [r["text"] for r in rows], cache)
    queries.update(final_queries(model, [r["text"] for r in sets["check"] + sets["select"]], cache))
    own, kept = {}, {}
    for name, part in sets.items():
        vectors = own_vectors(model, name, part)
        keep = np.isfinite(vectors).all(axis=1)
        kept[name], own[name] = [r for r, k in zip(part, keep) if k], vectors[keep]
    return queries, kept, own


def print_header(first: str, second: str = "features") -> None:
    print(f"| {first} | {second} | check, b = 0.5 | selection, b = 0.5 | score, b = 0.5 | best b | score there |")
    print("|---|---|---|---|---|---|---|")


def print_scores(name: str, width: int, mapped, sets: dict, own: dict, queries: dict, columns: dict) -> None:
    """One table row for a fitted map (``mapped``: column list -> unit vectors), its per-source figures below it."""
    scores = {n: set_scores(own[n], mapped(columns[n]), sets[n], queries) for n in sets}
    means = {n: {b: float(np.mean(list(scores[n][b].values()))) for b in WEIGHTS} for n in sets}
    score = {b: (means["check"][b] + means["select"][b]) / 2 for b in WEIGHTS}
    best = max(WEIGHTS, key=lambda b: (round(score[b], 6), -b))
    print(f"| {name} | {width} | {means['check'][0.5]:.3f} | {means['select'][0.5]:.3f} | "
          f"{score[0.5]:.3f} | {best} | {score[best]:.3f} |", flush=True)  # fmt: skip
    sources = {s: v for n in sets for s, v in scores[n][0.5].items()}
    print("<!-- b = 0.5: " + ", ".join(f"{s} {v:.3f}" for s, v in sources.items()) + " -->", flush=True)


def main(model_name: str, only: list[str] | None = None) -> None:
    rows, fitted, sets, paths = variant_rows()
    index = {p: i for i, p in enumerate(paths)}
    features = tower_features(paths)
    queries, sets, own = model_side(model_name, rows, sets)
    texts = torch.stack([queries[r["text"]] for r in fitted]).float()
    print_header("variant")
    columns = {name: [index[r["image"]] for r in part] for name, part in (("fit", fitted), *sets.items())}
    for name, maps in VARIANTS.items():
        if only and not any(word in name for word in only):
            continue
        fit = distilled_variant if name.startswith("distilled") else fitted_variant
        width, mapped = fit(maps, features, columns["fit"], texts, [r["text"] for r in fitted])
        print_scores(name, width, mapped, sets, own, queries, columns)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", default="mmembed-multisource-g1.3")
    parser.add_argument("--only", nargs="+", help="run the variants whose names hold one of these words")
    arguments = parser.parse_args()
    main(arguments.model, arguments.only)
