"""Fit a model's final shortcut (mmembed/final_shortcut.py): per media kind, a map from the tower's mean-pooled
features onto the model's own final query vectors of the captions, then its weight ``b`` in the blend.

The fit is LiT's with the text side locked: mini-batches of (item, caption) pairs, the symmetric contrastive loss at
a learned temperature (pairs that share a caption are not each other's negatives), LiT's steps and batch size (chosen
on a held-back tenth of its training pairs: ``docs/results/lit-fit-selection.md``). The map is a two-layer MLP by
default (``hidden_dim``; None: linear); its width, dropout and weight decay are the first setting tried, not tuned.
With ``standardize`` the map is fitted on standardized features (each feature minus the fit rows' mean, over their
standard deviation: ``"all"`` of them, or ``"summary"``, the image summary's alone, the grid features left as they
are), then the standardization is folded into its first layer, so the saved map reads the tower's features as
they come (no new state; ``docs/results/g1.5-image-map-fit.md``: the summary's features are up to ten times
the grid's, and unscaled they crowd the grid out for line icons). With ``tokens`` "side-by-side" the map reads an
item's soft tokens side by side instead of their mean (an image's 2 x 2 layout; the summary once). With ``members``
> 1 each kind gets that many maps fitted apart (seeds ``seed``, ``seed + 1``, ...), read as the mean of their unit
outputs (``ShortcutEnsemble``). With ``per_caption`` no caption has more than that many fit pairs.
10 % of the training captions (*check rows*, split by caption) are held out of the fit. The weight is swept through
the whole blend, as ``encode`` computes it, on two sets that count equally: the check rows (the sources the map was
fitted on; the LLM path trained on them, so they lean to it) and *selection rows*, items of sources that nothing
trained on (how far the map carries beyond its sources; a row whose caption the fit data has is dropped); each item
scored against the model's own query vectors of the captions, the mean of both directions' mAP per source. Ties go to
the smaller weight. The model's text side, tower shortcuts and view are not touched."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from tqdm.auto import tqdm

from encoders.shortcut import ShortcutEnsemble, lay_out_tokens
from mmembed.contrastive import shared_targets, symmetric_clip_loss
from mmembed.evaluation.lit_peer import endless_batches
from mmembed.evaluation.transcript_weight import DEFAULT_WEIGHTS, score_weights
from mmembed.final_shortcut import FinalShortcut, FinalShortcutConfig
from mmembed.fingerprint import text_space_id
from mmembed.serialization import save_tensors

from .features import media_features
from .shortcut import is_check, source_names

KINDS = ("image", "audio")
STANDARDIZE = ("none", "summary", "all")
TOKENS = ("mean", "side-by-side")


@dataclass
class FinalShortcutFitConfig:
    steps: int = 400
    batch_size: int = 1024  # pairs per step
    learning_rate: float = 1e-3
    weight_decay: float = 1e-2
    hidden_dim: int | None = 2048  # None: a linear map
    dropout: float = 0.2  # in the MLP's hidden layer, while it fits
    storage: str = "float16"  # the maps' saved dtype (kept maps too); rounded to it before the weight is chosen
    temperature: float = 0.07  # initial; learned
    check_fraction: float = 0.1  # of the training captions, held out of the fit for the weight sweep
    weights: tuple[float, ...] = DEFAULT_WEIGHTS
    seed: int = 0
    standardize: str = "none"  # which features the map is fitted on standardized: none, the image summary's, all
    tokens: str = "mean"  # how the map reads an item's soft tokens: their mean, or side by side (the image's layout)
    members: int = 1  # maps fitted per kind (seeds seed, seed + 1, ...), read as the mean of their unit outputs
    per_caption: int | None = None  # at most this many fit pairs per caption (a seeded sample); None: every pair

    def __post_init__(self) -> None:
        if self.standardize not in STANDARDIZE:
            raise ValueError(f"standardize is {self.standardize!r}, not one of {', '.join(STANDARDIZE)}")
        if self.tokens not in TOKENS:
            raise ValueError(f"tokens is {self.tokens!r}, not one of {', '.join(TOKENS)}")
        if self.members < 1:
            raise ValueError(f"members is {self.members}: a final map needs at least one")
        if self.per_caption is not None and self.per_caption < 1:
            raise ValueError(f"per_caption is {self.per_caption}: a caption needs at least one pair to be fitted")


@dataclass
class FinalShortcutFit:
    weights: dict[str, float]  # kind -> the chosen b
    # kind -> b -> source -> mean mAP of both directions (check rows: the fitted sources; selection rows: the others)
    sweeps: dict[str, dict[float, dict[str, float]]]
    pairs: dict[str, int] = field(default_factory=dict)  # kind -> training pairs the map was fitted on
    left_out: list[str] = field(default_factory=list)  # kinds in the data with no selection rows (not fitted)
    # kind -> selection rows dropped because the fit data has their caption (the map learnt that very target)
    dropped: dict[str, int] = field(default_factory=dict)

    def score(self, kind: str, weight: float) -> float:
        """What the weight was chosen by: the mean over the check sources and the mean over the selection sources,
        averaged (each set counts once, however many sources it has)."""
        scores = self.sweeps[kind][weight]
        check = [v for source, v in scores.items() if source.endswith(CHECK_SUFFIX)]
        select = [v for source, v in scores.items() if not source.endswith(CHECK_SUFFIX)]
        return float(np.mean([np.mean(part) for part in (check, select) if part]))


CHECK_SUFFIX = " (check)"  # how a fitted source's check rows are named in a sweep


def caption_rows(rows: list[dict]) -> list[dict]:
    return [dict(r) for r in rows if any(kind in r for kind in KINDS) and isinstance(r.get("text"), str)]


def capped_per_caption(captions: list[str], cap: int | None, seed: int) -> list[int]:
    """Indices of the pairs kept when no caption may have more than ``cap`` of them (None: every pair): a seeded
    sample of each over-full caption's pairs, the kept ones in their order. A source of a few classes (ten digits,
    160 drawings each) then cannot crowd a map whose other sources give each caption one or two items."""
    if cap is None:
        return list(range(len(captions)))
    by_caption: dict[str, list[int]] = {}
    for index, caption in enumerate(captions):
        by_caption.setdefault(caption, []).append(index)
    generator = torch.Generator().manual_seed(seed)
    kept = []
    for indices in by_caption.values():
        if len(indices) > cap:
            indices = [indices[i] for i in torch.randperm(len(indices), generator=generator)[:cap].tolist()]
        kept += indices
    return sorted(kept)


def final_queries(embedder, captions: list[str], cache_dir: Path, batch_size: int = 64) -> dict[str, torch.Tensor]:
    """The model's final query vectors of ``captions`` (what ``encode`` returns: unit, with a view joined), read
    from ``cache_dir`` when the same text side embedded the same captions before."""
    captions = sorted(set(captions))
    digest = hashlib.sha256(f"{text_space_id(embedder)}|query|".encode())
    if embedder.center is not None:
        digest.update(embedder.center.float().cpu().numpy().tobytes())
    digest.update("\n".join(captions).encode())
    path = Path(cache_dir) / f"final-queries-{digest.hexdigest()[:24]}.safetensors"
    if path.is_file():
        vectors = load_file(str(path))["queries"]
    else:
        vectors = torch.from_numpy(
            embedder.encode(captions, batch_size, "query", normalize=True, show_progress_bar=len(captions) > 256)
        )
        save_tensors({"queries": vectors}, path)
    return dict(zip(captions, vectors))


def pooled_pairs(
    embedder, rows: list[dict], kind: str, cache_dir: Path, tokens: str = "mean"
) -> tuple[torch.Tensor, list[dict]]:
    """Tower features of ``rows``' items of ``kind`` (the decodable ones), laid out as a map reads them (``tokens``:
    their soft tokens' mean, or side by side), and those rows."""
    rows = [r for r in rows if kind in r]
    features = media_features(embedder, rows, cache_dir)
    kept = sorted(features)
    if not kept:
        raise ValueError(f"none of the {len(rows)} {kind} rows decodes: no {kind} features to fit or sweep on")
    count = embedder.modalities.tower_configs[kind].num_tokens if tokens == "side-by-side" else 1
    width = embedder.modalities.feature_dim(kind)  # laid out item by item: no (N, tokens, F) copy of every item
    laid_out = torch.cat([lay_out_tokens(features[i][None].float(), count, width) for i in kept])
    return laid_out, [rows[i] for i in kept]


def fit_map(embedder, kind: str, media: torch.Tensor, texts: torch.Tensor, captions: list[str], config):
    """One kind's map onto the final space: ``config.steps`` AdamW steps on batches of ``config.batch_size`` pairs;
    returned in eval mode (no dropout). Its dropout draws from torch's global generator, seeded here by
    ``config.seed`` (and restored after), so a fit is the same whatever ran before it in the process. With
    ``config.members`` > 1, that many maps fitted apart (seeds ``seed``, ``seed + 1``, ...: their own initial weights,
    batches and dropout), as one ``ShortcutEnsemble``."""
    maps = []
    for member in range(config.members):
        seeded = dataclasses.replace(config, seed=config.seed + member)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seeded.seed)
            maps.append(fit_seeded_map(embedder, kind, media, texts, captions, seeded))
    return maps[0] if len(maps) == 1 else ShortcutEnsemble(maps).eval()


def standardization(media: torch.Tensor, which: str, summary_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(shift, scale) per feature of ``media`` (N, F) that standardize ``which`` of its features (``STANDARDIZE``;
    ``"summary"``: the trailing ``summary_dim``) to mean 0 and standard deviation 1 over its rows; the others get
    shift 0, scale 1. A feature constant over the rows keeps scale 1."""
    shift, scale = torch.zeros(media.shape[1]), torch.ones(media.shape[1])
    first = {"none": media.shape[1], "summary": media.shape[1] - summary_dim, "all": 0}[which]
    if first < media.shape[1]:
        part = media[:, first:].double()
        spread = part.std(dim=0) if len(media) > 1 else torch.zeros(part.shape[1], dtype=part.dtype)
        shift[first:] = part.mean(dim=0).float()
        scale[first:] = torch.where(spread > 1e-6, spread, torch.ones_like(spread)).float()
    return shift, scale


def fit_seeded_map(embedder, kind: str, media: torch.Tensor, texts: torch.Tensor, captions: list[str], config):
    shift, spread = standardization(media, config.standardize, embedder.modalities.summary_dim(kind))
    media = (media - shift) / spread
    shortcut = embedder.modalities.new_shortcut(  # reads every feature the tower gives (with its image summary)
        kind,
        config.seed,
        out_dim=embedder.dimension,
        hidden_dim=config.hidden_dim,
        dropout=config.dropout,
        in_dim=media.shape[1],
    )
    shortcut = shortcut.cpu().float().train()
    log_scale = torch.nn.Parameter(torch.tensor(float(np.log(1 / config.temperature))))
    optimizer = torch.optim.AdamW(
        [{"params": shortcut.parameters(), "weight_decay": config.weight_decay}, {"params": [log_scale]}],
        lr=config.learning_rate,
    )
    caption_ids = torch.tensor([{c: i for i, c in enumerate(sorted(set(captions)))}[c] for c in captions])
    batches = endless_batches(len(media), config.batch_size, torch.Generator().manual_seed(config.seed))
    for _ in tqdm(range(config.steps), desc=f"final shortcut {kind} (seed {config.seed})", unit="step"):
        pick = next(batches)
        items = F.normalize(shortcut(media[pick]), dim=-1)
        scale = log_scale.exp().clamp(max=100)
        loss = symmetric_clip_loss(items, texts[pick], scale, shared_targets(caption_ids[pick]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    shortcut.fold_standardization(shift, spread)
    return shortcut.eval().to(embedder.device)


def sweep_final_weight(embedder, kind: str, rows: list[dict], cache_dir: Path, config, batch_size: int = 32):
    """Every weight of the grid on ``rows`` of ``kind``: the model's own vectors (its final shortcut at 0) blended
    with the map's, scored against its own query vectors of the captions; every score, per weight and source."""
    media, rows = pooled_pairs(embedder, rows, kind, cache_dir, config.tokens)
    with embedder.overrides(final_weights={kind: 0.0}):
        items = [Path(r[kind]) for r in rows]
        own = embedder.encode(items, batch_size, "document", normalize=True, on_error="nan", show_progress_bar=True)
    keep = np.isfinite(own).all(axis=1)
    own, media, rows = own[keep], media[torch.from_numpy(keep)], [r for r, k in zip(rows, keep) if k]
    with torch.no_grad():
        mapped = F.normalize(embedder.final_shortcut.shortcuts[kind](media.to(embedder.device)).float(), dim=-1)
    mapped = mapped.cpu().numpy()
    queries = {c: v.numpy() for c, v in final_queries(embedder, [r["text"] for r in rows], cache_dir).items()}

    def vectors_at(weight: float) -> np.ndarray:
        vectors = (1 - weight) * own + weight * mapped
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    sources = [str(r.get("source", "unknown")) for r in rows]
    return score_weights(vectors_at, sources, [r["text"] for r in rows], queries, config.weights)[1]


def unseen_captions(rows: list[dict], select_rows: list[dict], kinds: list[str]) -> tuple[list[dict], dict[str, int]]:
    """The selection rows whose caption no fit row of their kind has, and per kind how many were dropped: a map
    fitted onto a caption's vector finds that caption again in any voice or rendering, so such rows measure memory,
    not how far the map carries (new-voice speech says the training sentences in new voices)."""
    kept, dropped = [], dict.fromkeys(kinds, 0)
    for kind in kinds:
        fitted = {r["text"] for r in rows if kind in r}
        of_kind = [r for r in select_rows if kind in r]
        unseen = [r for r in of_kind if r["text"] not in fitted]
        kept += unseen
        dropped[kind] = len(of_kind) - len(unseen)
        if not unseen:
            raise ValueError(
                f"every {kind} selection row has a caption the fit data has: the weight would be chosen on what "
                "the map memorised (give --select-data with other captions)"
            )
    return kept, dropped


def kept_maps(embedder, kinds: list[str], hidden_dim: int | None) -> tuple[dict, dict[str, float], dict[str, str]]:
    """The model's final maps of the kinds this fit leaves alone (maps, weights, sources): kept as they are, which
    needs them to be the fit's shape of map (their values are stored in the fit's dtype: rounded if it is narrower)."""
    if embedder.final_shortcut is None:
        return {}, {}, {}
    own = embedder.final_shortcut
    others = [kind for kind in own.shortcuts if kind not in kinds]
    if others and own.config.hidden_dim != hidden_dim:
        raise ValueError(
            f"the model's final {', '.join(others)} map has hidden layer {own.config.hidden_dim}, this fit "
            f"{hidden_dim}: one final shortcut has one shape of map, so fit with the same hidden size "
            "(--final-hidden) or refit every kind together"
        )
    maps = {kind: own.shortcuts[kind] for kind in others}
    weights = {kind: own.config.weights.get(kind, 0.0) for kind in others}
    sources = {kind: own.config.sources[kind] for kind in others if kind in own.config.sources}
    return maps, weights, sources


def fit_final_shortcut(
    embedder,
    rows: list[dict],
    select_rows: list[dict],
    cache_dir: str | Path,
    config: FinalShortcutFitConfig | None = None,
    batch_size: int = 32,
    source: str | None = None,
) -> FinalShortcutFit:
    """Fit a final shortcut map for every media kind that both ``rows`` (training rows with captions) and
    ``select_rows`` (rows of sources nothing trained on) hold, choose its weight on its check rows and the selection
    rows, and set it in ``embedder.final_shortcut``: a map the model had for a kind fitted here is replaced, its maps
    of other kinds are kept (so image and audio maps can be fitted in turn); a calibration the model had is dropped.
    ``source``: recorded per fitted kind in the config."""
    config = config or FinalShortcutFitConfig()
    cache_dir = Path(cache_dir)
    rows, select_rows = caption_rows(rows), caption_rows(select_rows)
    if not rows:
        raise ValueError("no media rows with captions to fit a final shortcut on")
    shared = sorted(source_names(rows) & source_names(select_rows))
    if shared:
        raise ValueError(f"selection source {', '.join(shared)} is also in the fit data: select on untrained sources")
    in_data = [kind for kind in KINDS if any(kind in r for r in rows)]
    kinds = [kind for kind in in_data if any(kind in r for r in select_rows)]
    if not kinds:
        raise ValueError(
            f"the selection data holds no {' or '.join(in_data)} rows: the final shortcut's weight is chosen on "
            "them (give --select-data with items of sources nothing trained on)"
        )
    select_rows, dropped = unseen_captions(rows, select_rows, kinds)
    maps, weights, sources = kept_maps(embedder, kinds, config.hidden_dim)
    fit = FinalShortcutFit(weights={}, sweeps={}, left_out=[k for k in in_data if k not in kinds], dropped=dropped)
    shortcuts, checks = torch.nn.ModuleDict(maps), {}
    for kind in kinds:
        media, kept = pooled_pairs(embedder, rows, kind, cache_dir, config.tokens)
        on_check = torch.tensor([is_check(r["text"], config.check_fraction, config.seed) for r in kept])
        fit_indices = torch.nonzero(~on_check).squeeze(1)
        capped = capped_per_caption([kept[i]["text"] for i in fit_indices.tolist()], config.per_caption, config.seed)
        fit_indices = fit_indices[capped]
        fitted = [kept[i] for i in fit_indices.tolist()]
        checks[kind] = [
            {**r, "source": f"{r.get('source', 'unknown')}{CHECK_SUFFIX}"} for r, check in zip(kept, on_check) if check
        ]
        queries = final_queries(embedder, [r["text"] for r in kept], cache_dir)  # one cache file for both splits
        captions = [r["text"] for r in fitted]
        texts = torch.stack([queries[c] for c in captions]).float()
        shortcuts[kind] = fit_map(embedder, kind, media[fit_indices], texts, captions, config)
        fit.pairs[kind] = len(fitted)
    sources.update(dict.fromkeys(kinds, source) if source else {})
    embedder.final_shortcut = FinalShortcut(
        FinalShortcutConfig({**weights, **dict.fromkeys(kinds, 0.0)}, config.hidden_dim, sources, config.storage),
        shortcuts,
    )
    for kind in kinds:
        sweep = sweep_final_weight(embedder, kind, checks[kind] + select_rows, cache_dir, config, batch_size)
        fit.sweeps[kind] = sweep
        fit.weights[kind] = max(config.weights, key=lambda w: (round(fit.score(kind, w), 6), -w))
    embedder.final_shortcut.config = dataclasses.replace(
        embedder.final_shortcut.config, weights={**weights, **fit.weights}
    )
    embedder.calibration = None  # fitted on the media cosines before the map: `mmembed calibrate` fits a new one
    return fit
