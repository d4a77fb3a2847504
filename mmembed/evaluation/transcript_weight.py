"""Fit the transcript channel's weight on training rows (never the held-out split).

With ``audio_tower.transcribe`` a clip's vector is ``normalize((1 - w) * audio + w * transcript)`` (see
``Embedder._read_out``). Which ``w`` serves best depends on the model and on the sounds: speech wants the
words, an instrument has none (its transcript is empty and it keeps its audio vector), an animal's call may be
transcribed as noise. :func:`fit_transcript_weight` transcribes each clip once, embeds the audio alone and the
transcript alone once, and scores every weight of a grid by the mean of both directions' mAP per source, averaged
over the sources (each source counts once, however many clips it has).

A model with a view (view.py) blends the transcript into each head's vector before the two are joined at the view's
audio share, and that share is as free a choice as the weight: both are fitted together, on a grid of pairs, from
the same single pass (each head's unit vectors are kept apart, the shares applied per pair)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .tasks import caption_retrieval, media_rows

DEFAULT_WEIGHTS = tuple(round(float(w), 2) for w in np.linspace(0.0, 1.0, 11))


@dataclass
class AudioViews:
    """Each clip seen two ways, and the captions as queries: everything a weight sweep needs."""

    sources: list[str]  # per clip
    captions: list[str]  # per clip
    audio: np.ndarray  # (N, D) unit vectors of the audio alone
    words: np.ndarray  # (N, D) unit vectors of the transcripts; NaN rows where a clip has no words
    transcripts: list[str]  # per clip ("" for none)
    skipped: dict[str, str] = field(default_factory=dict)  # path -> why (a file that would not decode)
    # a model with a view: the column where the view's half starts; ``audio`` and ``words`` then hold each head's
    # unit vector side by side, no share applied (``blend`` applies one)
    view_split: int | None = None


@dataclass
class TranscriptWeightFit:
    """The best weight (and, for a model with a view, the best audio share of the view) and every score: keys are
    ``(weight, share)`` pairs, the share None for a model without a view."""

    weight: float
    share: float | None
    scores: dict[tuple[float, float | None], dict[str, float]]  # (weight, share) -> source -> mean mAP both ways
    spoken: dict[str, float]  # source -> the share of its clips with a transcript

    def mean(self, weight: float, share: float | None = None) -> float:
        return float(np.mean(list(self.scores[(weight, share)].values())))


def blend(
    audio: np.ndarray, words: np.ndarray, weight: float, view_split: int | None = None, share: float | None = None
) -> np.ndarray:
    """The transcript channel's vectors for ``weight``: rows without words keep their audio vector. With
    ``view_split`` (a model with a view) each head's half is blended on its own and the two are joined at the
    view's ``share``, as ``encode`` joins them."""
    if view_split is None:
        spoken = np.isfinite(words).all(axis=1)
        out = audio.copy()
        out[spoken] = (1 - weight) * audio[spoken] + weight * words[spoken]
        return out / np.linalg.norm(out, axis=1, keepdims=True)
    if share is None:
        raise ValueError("a model with a view joins its heads at a share: give one")
    first = blend(audio[:, :view_split], words[:, :view_split], weight)
    second = blend(audio[:, view_split:], words[:, view_split:], weight)
    return np.concatenate([np.sqrt(1 - share) * first, np.sqrt(share) * second], axis=1)


def source_map(vectors: np.ndarray, captions: list[str], queries: dict[str, np.ndarray]) -> float:
    """Mean of text->clip and clip->text mAP for one source's clips (several clips may share a caption)."""
    names = sorted(set(captions))
    index = {name: i for i, name in enumerate(names)}
    texts = np.stack([queries[name] for name in names])
    text_to_clip, clip_to_text = caption_retrieval(texts, vectors, np.array([index[c] for c in captions]))
    return (text_to_clip["mAP"] + clip_to_text["mAP"]) / 2


def score_weights(vectors_at, sources: list[str], captions: list[str], queries: dict[str, np.ndarray], weights):
    """Score the blend ``vectors_at(weight)`` (one row per item) at every weight on every source; the best weight by
    the mean over sources (ties: the smaller weight, the smaller change; a weight may be a tuple of several, compared
    in order), and every score."""
    scores = {}
    for weight in weights:
        vectors = vectors_at(weight)
        scores[weight] = {}
        for source in sorted(set(sources)):
            keep = [i for i, s in enumerate(sources) if s == source]
            scores[weight][source] = source_map(vectors[keep], [captions[i] for i in keep], queries)

    def smaller_first(weight) -> tuple:
        return tuple(-(w or 0.0) for w in weight) if isinstance(weight, tuple) else (-weight,)

    best = max(weights, key=lambda w: (round(float(np.mean(list(scores[w].values()))), 6), *smaller_first(w)))
    return best, scores


def sweep(
    views: AudioViews, queries: dict[str, np.ndarray], weights=DEFAULT_WEIGHTS, shares=DEFAULT_WEIGHTS
) -> TranscriptWeightFit:
    """Score every weight (with a view: every pair of weight and the view's audio share) on every source; the best by
    the mean over sources (ties: the smaller weight, which transcribes for less effect, then the smaller share)."""
    pairs = [(w, s) for w in weights for s in (shares if views.view_split is not None else [None])]
    best, scores = score_weights(
        lambda pair: blend(views.audio, views.words, pair[0], views.view_split, pair[1]),
        views.sources,
        views.captions,
        queries,
        pairs,
    )
    spoken = np.isfinite(views.words).all(axis=1)
    sources = sorted(set(views.sources))
    share = {s: float(np.mean([spoken[i] for i, x in enumerate(views.sources) if x == s])) for s in sources}
    return TranscriptWeightFit(weight=best[0], share=best[1], scores=scores, spoken=share)


def audio_views(embedder, rows: list[dict], batch_size: int = 32) -> AudioViews:
    """Transcribe each audio row's clip once (Whisper's decoder, with progress) and embed the audio alone and the
    transcript alone, both as documents, the way ``encode`` embeds a clip."""
    from encoders import MediaError, load_audio

    final = embedder.final_shortcut
    if final is not None and "audio" in final.shortcuts:
        raise ValueError(
            "this model has a final audio shortcut, fitted onto the sound vectors as they are: fit the transcript "
            "weight on the model before it, then fit the final shortcut again (mmembed fit-shortcut --final)"
        )
    rows = media_rows(rows, "audio")
    if not rows:
        raise ValueError("no audio rows with captions in the data")
    waves, kept, skipped = [], [], {}
    for row in tqdm(rows, desc="decode", unit="clip", disable=len(rows) < 50):
        try:
            waves.append(load_audio(Path(row["audio"])))
            kept.append(row)
        except (MediaError, OSError, RuntimeError, ValueError) as error:
            skipped[str(row["audio"])] = str(error)
    progress = len(waves) >= 50
    transcripts = embedder.modalities.transcripts(waves, progress=progress)
    # a view's heads are kept apart: joined at an even share, each half is its head's unit vector over sqrt(2)
    even = {"text": 0.5, "audio": 0.5} if embedder.view is not None else None
    with embedder.overrides(transcribe=False, view_shares=even):
        audio = embedder.encode(
            [(w.numpy(), 16_000) for w in waves],
            batch_size=batch_size,
            instruction="document",
            normalize=True,
            show_progress_bar=progress,
        )
        words = np.full_like(audio, np.nan)
        spoken = [i for i, text in enumerate(transcripts) if text.strip()]
        if spoken:
            words[spoken] = embedder.encode(
                [transcripts[i] for i in spoken],
                batch_size=batch_size,
                instruction="document",
                normalize=True,
                show_progress_bar=progress,
            )
    if even is not None:
        audio, words = audio * np.sqrt(2), words * np.sqrt(2)
    return AudioViews(
        sources=[str(row.get("source", "unknown")) for row in kept],
        captions=[row["text"] for row in kept],
        audio=audio,
        words=words,
        transcripts=transcripts,
        skipped=skipped,
        view_split=embedder.hidden_size if embedder.view is not None else None,
    )


def fit_transcript_weight(
    embedder, rows: list[dict], weights=DEFAULT_WEIGHTS, batch_size: int = 32
) -> tuple[TranscriptWeightFit, AudioViews]:
    """The weight of the grid (with a view: the weight and the view's audio share) that serves ``rows`` (training
    rows) best, and the views it was scored on."""
    views = audio_views(embedder, rows, batch_size)
    names = sorted(set(views.captions))
    vectors = embedder.encode(names, batch_size=batch_size, instruction="query", normalize=True)
    return sweep(views, dict(zip(names, vectors)), tuple(weights)), views
