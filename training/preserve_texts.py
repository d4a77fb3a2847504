"""What the output head must leave in place: the texts whose neighbourhoods its self-distillation keeps.

A head fitted on captions alone (training/shortcut.py) moves every text; the preserve term keeps each text's softmax
over the others as it was. Its texts come in *parts*, each as the model's unit query vectors:

- ``captions``: the fit sources' captions (their caption banks);
- ``prompts``: the zero-shot prompts (mmembed/evaluation/tasks.py) of every label in the fit rows and the preserve
  data, the texts a classifier built on the model is made of;
- ``data``: every string the rows of ``--preserve-data`` manifests hold (``text``, ``positive``, ``pair``),
  at most ``limit`` per source, so text-to-text tasks (retrieval, similarity) and other languages keep their
  neighbours too.

Each step samples the parts equally, so a few hundred prompts weigh as much as thousands of captions.

By default the "before" of each text is the model's own neighbourhood (the head must not move it). With a text
teacher (``--preserve-teacher mpnet``, training/teachers.py) the "before" is the teacher's: the head keeps the
neighbourhoods a sentence model would give, distillation (KL between in-batch similarity matrices) through the head,
so the text side can gain what the teacher knows of word and sentence similarity while the shortcuts fit;
``--preserve-teacher-share`` blends the two (the "before" logits are share x the teacher's + (1 - share) x the model's
own).

A teacher knows its own languages only (both packaged ones are English): ``--preserve-teacher-languages en`` keeps
the teacher to the texts in those languages (a row's ``lang``; fit captions, prompts and rows without one count as
English); ``--preserve-teacher-parts prompts data`` keeps it to some parts (here: not the fit captions, whose own
neighbourhoods the trained sources' retrieval rests on). Every other text keeps the model's own neighbourhood over
the whole batch, and a taught text's teacher neighbourhood spans the taught texts only, so an English model never
ranks a Japanese caption."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from mmembed.evaluation.tasks import PROMPTS
from mmembed.output_head import through_head

from .objectives.locked_text import LockedText

TEXT_FIELDS = ("text", "positive", "pair")
PART_NAMES = ("captions", "prompts", "data")
UNMARKED_LANGUAGE = "en"  # the language of a text whose row names none (fit captions, prompts, WordNet)


@dataclass
class PreservePart:
    texts: list[str]
    vectors: torch.Tensor  # (N, D) the model's unit query vectors of the texts
    targets: torch.Tensor | None = None  # (N, E) a teacher's unit vectors of the texts: their "before", when set
    taught: torch.Tensor | None = None  # (N,) bool: which texts the teacher sets (None: all, when targets are set)


def label_prompts(rows: list[dict]) -> list[str]:
    """Every zero-shot prompt of every label the rows carry, sorted."""
    labels = {str(row["label"]) for row in rows if row.get("label") not in (None, "")}
    return sorted({prompt.format(label) for label in labels for prompt in PROMPTS})


def source_texts(rows: list[dict], limit: int, seed: int = 0) -> dict[str, list[str]]:
    """Source -> its distinct strings (``TEXT_FIELDS``), at most ``limit`` picked by a hash of the text (a spread over
    the manifest, not its first rows), sorted."""

    def order(text: str) -> bytes:
        return hashlib.sha256(f"{seed}|{text}".encode()).digest()

    by_source: dict[str, set[str]] = {}
    for row in rows:
        texts = [row[key] for key in TEXT_FIELDS if isinstance(row.get(key), str) and row[key].strip()]
        by_source.setdefault(str(row.get("source", "unknown")), set()).update(texts)
    return {source: sorted(sorted(texts, key=order)[:limit]) for source, texts in sorted(by_source.items()) if texts}


def text_languages(rows: list[dict]) -> dict[str, str]:
    """Text -> the language of the first row holding it (its ``lang``, else ``UNMARKED_LANGUAGE``)."""
    languages: dict[str, str] = {}
    for row in rows:
        language = str(row.get("lang") or UNMARKED_LANGUAGE)
        for key in TEXT_FIELDS:
            if isinstance(row.get(key), str):
                languages.setdefault(row[key], language)
    return languages


def preserve_parts(
    embedder,
    captions: PreservePart,
    fit_rows: list[dict],
    preserve_rows: list[dict],
    cache_dir: Path,
    limit: int = 2000,
    teacher=None,
    teacher_languages: tuple[str, ...] | None = None,
    teacher_parts: tuple[str, ...] | None = None,
) -> dict[str, PreservePart]:
    """Part name -> its texts and vectors (see the module's docstring); ``captions`` is the fit sources' banks. With a
    ``teacher`` (training/teachers.py's TextTeacher) every part carries the teacher's vectors as its targets, and,
    with ``teacher_languages`` or ``teacher_parts`` (names in ``PART_NAMES``), which of its texts the teacher sets
    (those in one of the languages, of one of the parts)."""
    unknown = sorted(set(teacher_parts or ()) - set(PART_NAMES))
    if unknown:
        raise ValueError(
            f"unknown preserve part(s) {', '.join(unknown)} for the teacher; known: {', '.join(PART_NAMES)}"
        )
    banks = LockedText()
    parts = {"captions": captions}
    prompts = label_prompts(fit_rows + preserve_rows)
    with torch.no_grad():
        if prompts:
            parts["prompts"] = PreservePart(prompts, banks.caption_bank(embedder, "prompts", prompts, cache_dir))
        by_source = source_texts(preserve_rows, limit)
        data = [banks.caption_bank(embedder, source, texts, cache_dir) for source, texts in by_source.items()]
    if data:
        parts["data"] = PreservePart([t for texts in by_source.values() for t in texts], torch.cat(data))
    if teacher is not None:
        languages = text_languages(fit_rows + preserve_rows)
        for name, part in parts.items():
            part.targets = teacher.embed(part.texts)
            if teacher_languages is None and teacher_parts is None:
                continue  # the teacher sets every text
            known = set(teacher_languages) if teacher_languages is not None else None
            in_part = teacher_parts is None or name in teacher_parts
            taught = [in_part and (known is None or languages.get(t, UNMARKED_LANGUAGE) in known) for t in part.texts]
            part.taught = torch.tensor(taught, dtype=torch.bool)
    return parts


def preserve_sample(
    parts: dict[str, PreservePart], batch: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """``batch`` texts, an equal share from each part (all of a part smaller than its share): their vectors, their
    teacher targets and which of them the teacher sets (both None without a teacher; the last None: all)."""
    share = max(1, batch // len(parts))
    picks = [(part, torch.randperm(len(part.vectors), generator=generator)[:share]) for part in parts.values()]
    vectors = torch.cat([part.vectors[pick] for part, pick in picks])
    if any(part.targets is None for part in parts.values()):
        return vectors, None, None
    targets = torch.cat([part.targets[pick] for part, pick in picks])
    if all(part.taught is None for part in parts.values()):
        return vectors, targets, None
    every = [torch.ones(len(part.texts), dtype=torch.bool) if part.taught is None else part.taught for part, _ in picks]
    return vectors, targets, torch.cat([taught[pick] for taught, (_, pick) in zip(every, picks)])


def preserve_loss(
    texts: torch.Tensor,
    head: torch.Tensor,
    temperature: float,
    targets: torch.Tensor | None = None,
    teacher_share: float = 1.0,
    taught: torch.Tensor | None = None,
) -> torch.Tensor:
    """Distillation of the text side: each text's softmax over the others after the head against before it (the
    texts' own similarities, or, with ``targets``, a teacher's vectors of the same texts, its similarities blended
    into the own ones at ``teacher_share``), KL. ``taught`` (bool per text; None: all) limits the teacher to some
    texts: each of those ranks only the other taught ones by the teacher, every other text ranks all by its own."""
    if not 0.0 <= teacher_share <= 1.0:
        raise ValueError(f"the teacher's share of the preserve targets is {teacher_share}; it must lie in [0, 1]")
    hidden = torch.eye(len(texts), dtype=torch.bool)
    similarity = texts @ texts.T
    if targets is not None:
        taught = torch.ones(len(texts), dtype=torch.bool) if taught is None else taught
        blended = teacher_share * (targets @ targets.T) + (1 - teacher_share) * similarity
        similarity = torch.where(taught[:, None], blended, similarity)
        hidden = hidden | (taught[:, None] & ~taught[None, :])
    before = (similarity / temperature).masked_fill(hidden, -1e4)
    moved = through_head(texts, head)
    after = (moved @ moved.T / temperature).masked_fill(hidden, -1e4)
    return F.kl_div(F.log_softmax(after, dim=-1), F.log_softmax(before, dim=-1), log_target=True, reduction="batchmean")
