"""Fit the tower shortcuts (encoders/shortcut.py) of a trained model, and their share of each media vector.

A LiT-style fit with the text side locked: per media kind one linear map from the frozen tower's mean-pooled
features to where the model already puts the item's caption (its query vector), scored against *every* training
caption of the item's source (the caption banks of ``locked_text``, read from the same cache) and each caption
against the source's items, at a learned temperature. The LLM, its adapter and the projectors do not change, so every
text figure stays bit for bit. The training rows are split by caption: the shortcut fits on 90 % and stops at the
step that serves the other 10 % best. The blend weight ``w`` of ``(1 - w) * llm + w * shortcut`` is then swept
through the full blend and the best mean over sources kept per kind (the audio's transcript channel applied on top,
as ``encode`` does), on one of two sets:

- *selection rows* (``select_rows``): items of sources that no stage trained on (their train split; their test
  split stays the held-out figure), captioned by the model's own query vectors. Neither path has seen them, so
  neither is favoured: the unbiased choice, and the one to use;
- else the *check rows*: the LLM path saw them in training and the shortcut did not, so that sweep leans to the LLM.

:func:`sweep_shortcut_weights` re-sweeps the weights of shortcuts already fitted, on selection rows alone."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from mmembed.evaluation.transcript_weight import DEFAULT_WEIGHTS, audio_views, blend, score_weights, source_map
from mmembed.output_head import through_head

from .features import media_features
from .objectives.locked_text import LockedText
from .preserve_texts import PreservePart, preserve_loss, preserve_parts, preserve_sample
from .teachers import TextTeacher
from .translation_pairs import translation_banks, translation_loss


@dataclass
class ShortcutFitConfig:
    steps: int = 400
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    temperature: float = 0.05  # initial; learned
    check_fraction: float = 0.1  # of each source's captions, held out of the fit for early stopping and the sweep
    check_every: int = 25
    weights: tuple[float, ...] = DEFAULT_WEIGHTS
    seed: int = 0
    head: bool = False  # also fit the output head (mmembed/output_head.py): the text side meets the shortcuts
    preserve_weight: float = 1.0  # the head's self-distillation: keeps each caption's text neighbours
    preserve_batch: int = 512  # texts per step in that term, an equal share from each part (preserve_texts.py)
    preserve_limit: int = 2000  # texts per source of the preserve data
    preserve_temperature: float = 0.05
    preserve_teacher: str | None = None  # a text teacher (minilm, mpnet) whose neighbourhoods the head keeps instead
    preserve_teacher_share: float = 1.0  # the teacher's share of those neighbourhoods, the model's own the rest
    preserve_teacher_languages: tuple[str, ...] | None = None  # the teacher sets only texts in these (None: all)
    preserve_teacher_parts: tuple[str, ...] | None = None  # ... and of these parts (preserve_texts.PART_NAMES)
    translation_weight: float = 1.0  # the head's translation anchors (translation_pairs.py), when given pairs
    translation_batch: int = 256  # pairs per step in that term


@dataclass
class ShortcutFit:
    weights: dict[str, float]  # kind -> the chosen share of the shortcut
    sweeps: dict[str, dict[float, dict[str, float]]]  # kind -> weight -> source -> mean mAP (on swept_on)
    best_steps: dict[str, int]  # kind -> the step kept (early stopping on the check rows)
    check_curves: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # kind -> (step, mean mAP)
    swept_on: dict[str, str] = field(default_factory=dict)  # kind -> "selection rows" or "check rows"


@dataclass
class Group:
    """One source's rows of one media kind, with what the fit needs of them."""

    source: str
    kind: str
    fit: list[int]  # row indices
    check: list[int]
    bank: torch.Tensor  # (N, D) unit query vectors of every training caption of the source
    positions: dict[str, int]  # caption -> row of the bank


def is_check(caption: str, fraction: float, seed: int) -> bool:
    """A caption's side of the split, fixed by its text: every row with one caption lands on one side."""
    digest = hashlib.sha256(f"{seed}|{caption}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def build_groups(embedder, rows: list[dict], cache_dir: Path, config: ShortcutFitConfig) -> list[Group]:
    banks = LockedText()
    by_source: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        by_source.setdefault(str(row.get("source", "unknown")), []).append(index)
    groups = []
    for source, indices in sorted(by_source.items()):
        captions = sorted({rows[i]["text"] for i in indices})
        with torch.no_grad():
            bank = banks.caption_bank(embedder, source, captions, cache_dir)
        positions = {text: i for i, text in enumerate(captions)}
        for kind in ("image", "audio"):
            mine = [i for i in indices if kind in rows[i]]
            if not mine:
                continue
            on_check = {i for i in mine if is_check(rows[i]["text"], config.check_fraction, config.seed)}
            check = [i for i in mine if i in on_check]
            fit = [i for i in mine if i not in on_check]
            if fit and check:
                groups.append(Group(source, kind, fit, check, bank, positions))
            else:
                print(f"fit-shortcut: {source} {kind}s left out: {len(captions)} captions leave no check split")
    if not groups:
        raise ValueError("no source has enough captions to fit a shortcut and hold some out to check it")
    return groups


def group_loss(shortcut, scale, group: Group, pooled: dict[int, torch.Tensor], rows: list[dict], bank=None):
    """Item -> every caption of the source, and caption -> the group's items (pairs sharing a caption masked);
    ``bank``: the source's caption vectors through the head being fitted (else the group's own)."""
    bank = group.bank if bank is None else bank
    items = F.normalize(shortcut(torch.stack([pooled[i] for i in group.fit])), dim=-1)
    target = torch.tensor([group.positions[rows[i]["text"]] for i in group.fit])
    shared = (target[:, None] == target[None, :]).fill_diagonal_(False)  # another item with the same caption
    item_to_bank = scale * items @ bank.T
    text_to_item = (scale * bank[target] @ items.T).masked_fill(shared, -1e4)
    order = torch.arange(len(target))
    return (F.cross_entropy(item_to_bank, target) + F.cross_entropy(text_to_item, order)) / 2


@torch.no_grad()
def check_score(shortcuts, groups: list[Group], pooled, rows: list[dict], head: torch.Tensor | None = None) -> float:
    """Mean over the groups of both directions' mAP on their check rows, shortcut alone (captions through ``head``)."""
    scores = []
    for group in groups:
        vectors = F.normalize(shortcuts[group.kind](torch.stack([pooled[i] for i in group.check])), dim=-1).numpy()
        bank = through_head(group.bank, head)
        queries = {rows[i]["text"]: bank[group.positions[rows[i]["text"]]].numpy() for i in group.check}
        scores.append(source_map(vectors, [rows[i]["text"] for i in group.check], queries))
    return float(np.mean(scores))


def caption_part(groups: list[Group]) -> PreservePart:
    """Every caption bank of the groups once (a source with images and sounds shares one), with its texts."""
    unique = {id(g.bank): g for g in groups}.values()
    texts = [text for g in unique for text in sorted(g.positions, key=g.positions.get)]
    return PreservePart(texts, torch.cat([g.bank for g in unique]))


def train_shortcuts(
    embedder, groups, pooled, rows, config: ShortcutFitConfig, translations=None, preserve=None
) -> tuple[int, list, torch.Tensor | None]:
    """Fit the shortcuts of the groups' kinds (and, with ``config.head``, the output head: the identity plus a
    learned change, its texts held by ``preserve``, the parts of preserve_texts.py (default: the groups' captions),
    and anchored by ``translations``, a (translated, English) pair of banks, when given) on the groups' fit rows;
    keep the state that scored best on the check rows. Returns the step kept, the check curve and the head (None
    without)."""
    kinds = sorted({g.kind for g in groups})
    shortcuts = {}
    for kind in kinds:
        if kind in embedder.modalities.shortcuts:
            del embedder.modalities.shortcuts[kind]  # a refit starts from the same seeded init, not the old fit
        shortcuts[kind] = embedder.modalities.add_shortcut(kind, seed=config.seed).cpu().float()
    dimension = groups[0].bank.shape[1]
    change = torch.nn.Parameter(torch.zeros(dimension, dimension)) if config.head else None
    log_scale = torch.nn.Parameter(torch.tensor(float(np.log(1 / config.temperature))))
    decayed = [p for kind in kinds for p in shortcuts[kind].parameters()] + ([change] if config.head else [])
    optimizer = torch.optim.AdamW(
        [{"params": decayed, "weight_decay": config.weight_decay}, {"params": [log_scale]}], lr=config.learning_rate
    )
    banks = {g.source: g.bank for g in groups}
    if config.head:  # only the head's distillation term reads them
        preserve = preserve or {"captions": caption_part(groups)}
    generator = torch.Generator().manual_seed(config.seed)

    def head() -> torch.Tensor | None:
        return torch.eye(dimension) + change if config.head else None

    def state():
        return {kind: {k: v.clone() for k, v in shortcuts[kind].state_dict().items()} for kind in kinds}, (
            head().detach().clone() if config.head else None
        )

    best = (check_score(shortcuts, groups, pooled, rows, head()), 0, state())
    curve = [(0, best[0])]
    for step in tqdm(range(1, config.steps + 1), desc=f"shortcut {'+'.join(kinds)}", unit="step"):
        scale = log_scale.exp().clamp(max=100)
        current = head()
        moved = {source: through_head(bank, current) for source, bank in banks.items()}
        losses = [group_loss(shortcuts[g.kind], scale, g, pooled, rows, moved[g.source]) for g in groups]
        loss = torch.stack(losses).mean()
        if config.head and config.preserve_weight > 0:
            sample, targets, taught = preserve_sample(preserve, config.preserve_batch, generator)
            share = config.preserve_teacher_share
            kept = preserve_loss(sample, current, config.preserve_temperature, targets, share, taught)
            loss = loss + config.preserve_weight * kept
        if config.head and translations is not None and config.translation_weight > 0:
            picked = torch.randperm(len(translations[0]), generator=generator)[: config.translation_batch]
            anchors = translation_loss(*(bank[picked] for bank in translations), current, config.preserve_temperature)
            loss = loss + config.translation_weight * anchors
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % config.check_every == 0 or step == config.steps:
            score = check_score(shortcuts, groups, pooled, rows, head())
            curve.append((step, score))
            if score > best[0]:
                best = (score, step, state())
    for kind in kinds:
        shortcuts[kind].load_state_dict(best[2][0][kind])
        shortcuts[kind].to(embedder.device)
    return best[1], curve, best[2][1]


def llm_views(embedder, kind: str, rows: list[dict], batch_size: int) -> tuple[np.ndarray, np.ndarray | None, list]:
    """The rows as ``encode`` sees them without the shortcut: unit LLM vectors of the decodable ones, their
    transcripts' unit vectors (audio with the transcript channel on; NaN where a clip has no words) and, per row,
    whether it decoded."""
    with embedder.overrides(shortcut_weights={kind: 0.0}):
        if kind == "audio":
            views = audio_views(embedder, rows, batch_size)
            transcribe = embedder.modalities.tower_configs["audio"].transcribe
            return (
                views.audio,
                views.words if transcribe else None,
                [str(r["audio"]) not in views.skipped for r in rows],
            )
        vectors = embedder.encode(
            [Path(r["image"]) for r in rows], batch_size, "document", normalize=True, on_error="nan"
        )
        keep = np.isfinite(vectors).all(axis=1)
        return vectors[keep], None, keep.tolist()


def sweep_weight(embedder, kind, rows, pooled, queries, weights, batch_size: int = 32):
    """Every weight of the grid on ``rows`` (their tower features mean-pooled in ``pooled``, one per row; each
    caption's query vector in ``queries``), through the full blend; the best by the mean over the sources (ties: the
    smaller weight)."""
    llm, words, decoded = llm_views(embedder, kind, rows, batch_size)
    kept = [i for i, ok in enumerate(decoded) if ok]
    with torch.no_grad():
        direct = embedder.modalities.shortcuts[kind](torch.stack([pooled[i] for i in kept]).to(embedder.device))
        direct = F.normalize(direct.float(), dim=-1).cpu().numpy()
    transcript_weight = embedder.modalities.tower_configs[kind].transcript_weight if words is not None else 0.0

    def vectors_at(weight: float) -> np.ndarray:
        vectors = blend(llm, direct, weight)
        return blend(vectors, words, transcript_weight) if words is not None else vectors

    sources = [str(rows[i].get("source", "unknown")) for i in kept]
    return score_weights(vectors_at, sources, [rows[i]["text"] for i in kept], queries, weights)


def check_sweep(embedder, kind, groups, pooled, rows, config: ShortcutFitConfig, batch_size: int = 32):
    """The weight sweep on the groups' check rows, their captions' vectors read from the banks."""
    indices = [i for g in groups for i in g.check]
    queries = {}
    for g in groups:
        queries.update({rows[i]["text"]: g.bank[g.positions[rows[i]["text"]]].numpy() for i in g.check})
    check_rows, check_pooled = [rows[i] for i in indices], [pooled[i] for i in indices]
    return sweep_weight(embedder, kind, check_rows, check_pooled, queries, config.weights, batch_size)


def source_names(rows: list[dict]) -> set[str]:
    return {str(row.get("source", "unknown")) for row in rows}


def selection_rows(rows: list[dict], limit: int | None, seed: int = 0) -> list[dict]:
    """At most ``limit`` media rows with captions per source, picked by a hash of the item: a spread over the
    manifest, not its first rows (a manifest may list one class after another)."""

    def order(row: dict) -> bytes:
        return hashlib.sha256(f"{seed}|{row.get('image', row.get('audio'))}|{row['text']}".encode()).digest()

    media = [row for row in rows if ("image" in row or "audio" in row) and isinstance(row.get("text"), str)]
    by_source: dict[str, list[dict]] = {}
    for row in media:
        by_source.setdefault(str(row.get("source", "unknown")), []).append(row)
    return [row for source in sorted(by_source) for row in sorted(by_source[source], key=order)[:limit]]


def selection_sweep(embedder, kind, rows, cache_dir: Path, config: ShortcutFitConfig, batch_size: int = 32):
    """The weight sweep on selection rows of one kind, each caption scored by the model's own query vector."""
    rows = [row for row in rows if kind in row]
    features = media_features(embedder, rows, cache_dir)
    rows = [rows[i] for i in sorted(features)]
    pooled = [features[i].float().mean(dim=0) for i in sorted(features)]
    captions = sorted({row["text"] for row in rows})
    with torch.no_grad():
        vectors = embedder.encode(captions, batch_size, "query", normalize=True)
    return sweep_weight(embedder, kind, rows, pooled, dict(zip(captions, vectors)), config.weights, batch_size)


def sweep_shortcut_weights(
    embedder,
    select_rows: list[dict],
    cache_dir: str | Path,
    config: ShortcutFitConfig | None = None,
    batch_size: int = 32,
) -> ShortcutFit:
    """Re-sweep the weight of every fitted shortcut whose kind ``select_rows`` holds, the shortcuts unchanged; set
    the chosen weights in ``embedder.config.shortcut_weights``."""
    refuse_a_view(embedder)
    config = config or ShortcutFitConfig()
    kinds = sorted({kind for row in select_rows for kind in ("image", "audio") if kind in row})
    if not kinds:
        raise ValueError("the selection data holds no image or audio rows with captions")
    missing = [kind for kind in kinds if kind not in embedder.modalities.shortcuts]
    if missing:
        raise ValueError(f"the model has no {' or '.join(missing)} shortcut: fit one first (no --keep-shortcuts)")
    fit = ShortcutFit(weights={}, sweeps={}, best_steps={})
    for kind in kinds:
        sweep = selection_sweep(embedder, kind, select_rows, Path(cache_dir), config, batch_size)
        fit.weights[kind], fit.sweeps[kind] = sweep
        fit.swept_on[kind] = "selection rows"
    embedder.config.shortcut_weights = {**embedder.config.shortcut_weights, **fit.weights}
    return fit


def refuse_a_view(embedder) -> None:
    if embedder.final_shortcut is not None:
        raise ValueError(
            "this model has a final shortcut (fitted onto its vectors as they are): fit or sweep tower shortcuts on "
            "the model before it, then fit the final shortcut again (mmembed fit-shortcut --final)"
        )
    if embedder.view is not None:
        raise ValueError(
            "this model has a view (a second head, mmembed add-view): fit or sweep shortcuts on the model it was "
            "added to, then add the view again"
        )


def fit_shortcuts(
    embedder,
    rows: list[dict],
    cache_dir: str | Path,
    config: ShortcutFitConfig | None = None,
    batch_size: int = 32,
    select_rows: list[dict] | None = None,
    translation_rows: list[dict] | None = None,
    preserve_rows: list[dict] | None = None,
) -> ShortcutFit:
    """Fit a shortcut for every media kind in ``rows`` (training rows with captions) and set its weight in
    ``embedder.config.shortcut_weights``: swept on ``select_rows`` where they hold the kind, else on the check rows.
    ``translation_rows`` (a multilingual manifest's rows; with ``config.head``) anchor the head's translations;
    ``preserve_rows`` (any manifest's rows; with ``config.head``) add their texts to what the head keeps in place."""
    refuse_a_view(embedder)
    config = config or ShortcutFitConfig()
    cache_dir = Path(cache_dir)
    rows = [dict(row) for row in rows if ("image" in row or "audio" in row) and isinstance(row.get("text"), str)]
    if not rows:
        raise ValueError("no media rows with captions to fit a shortcut on")
    select_rows = select_rows or []
    shared = sorted(source_names(rows) & source_names(select_rows))
    if shared:
        raise ValueError(f"selection source {', '.join(shared)} is also in the fit data: select on untrained sources")
    if translation_rows and not config.head:
        raise ValueError("translation rows anchor the output head: fit one (config.head) or leave them out")
    if preserve_rows and not config.head:
        raise ValueError("preserve rows hold texts in place under the output head: fit one (config.head) or drop them")
    if config.preserve_teacher and not config.head:
        raise ValueError("a preserve teacher sets the output head's text neighbourhoods: fit one (config.head)")
    limits = config.preserve_teacher_languages is not None or config.preserve_teacher_parts is not None
    if limits and not config.preserve_teacher:
        raise ValueError("preserve teacher languages or parts limit a preserve teacher: name one (preserve_teacher)")
    teacher = TextTeacher(config.preserve_teacher) if config.preserve_teacher else None  # unknown names fail here
    if config.head:
        embedder.head = None  # a new head is fitted on the plain space, not on top of an old one
    translations = translation_banks(embedder, translation_rows, cache_dir) if translation_rows else None
    features = media_features(embedder, rows, cache_dir)
    rows_kept = sorted(features)
    rows = [rows[i] for i in rows_kept]
    pooled = {j: features[i].float().mean(dim=0) for j, i in enumerate(rows_kept)}
    groups = build_groups(embedder, rows, cache_dir, config)
    kinds = sorted({g.kind for g in groups})
    preserve = None
    if config.head:
        preserve = preserve_parts(
            embedder,
            caption_part(groups),
            rows,
            preserve_rows or [],
            cache_dir,
            config.preserve_limit,
            teacher,
            config.preserve_teacher_languages,
            config.preserve_teacher_parts,
        )
    fit = ShortcutFit(weights={}, sweeps={}, best_steps={})
    # without a head each kind fits alone; the head is shared by every kind, so it fits with all of them at once
    for together in [kinds] if config.head else [[kind] for kind in kinds]:
        mine = [g for g in groups if g.kind in together]
        step, curve, head = train_shortcuts(embedder, mine, pooled, rows, config, translations, preserve)
        fit.best_steps.update(dict.fromkeys(together, step))
        fit.check_curves.update(dict.fromkeys(together, curve))
    if config.head:
        embedder.head = head.to(embedder.device)
        for group in groups:
            group.bank = through_head(group.bank, head)
    for kind in kinds:
        mine = [g for g in groups if g.kind == kind]
        if any(kind in row for row in select_rows):
            sweep = selection_sweep(embedder, kind, select_rows, cache_dir, config, batch_size)
            fit.swept_on[kind] = "selection rows"
        else:
            sweep = check_sweep(embedder, kind, mine, pooled, rows, config, batch_size)
            fit.swept_on[kind] = "check rows"
        fit.weights[kind], fit.sweeps[kind] = sweep
    embedder.config.shortcut_weights = {**embedder.config.shortcut_weights, **fit.weights}
    return fit
