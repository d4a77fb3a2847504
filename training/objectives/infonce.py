"""Symmetric InfoNCE (CLIP loss) over pairs, with in-batch negatives and optional hard negatives.

The items (images, audio clips or passages) are embedded as documents; their paired texts as queries. Hard negatives
(the manifest's ``negatives``: passages that look right and are not) are embedded as documents too and join the
candidates of every query. The loss is the mean of query->item and item->query cross-entropy over the cosine-similarity
matrix divided by a temperature, fixed or learned (as CLIP's logit scale, clamped at 100). Pairs that share their text
(one caption for several sounds, two voices speaking one sentence) are not each other's negatives: those cells are
masked, so a batch never teaches that a caption does not match its own twin.

Distillation (``teacher: {model: minilm, weight: 1.0, temperature: 0.05}``): a frozen text teacher
(training/teachers.py) embeds each pair's text and its document side in words (a passage, or a media item's
caption); the row- and column-softmax of its similarity matrix over the temperature are soft targets for the
softmax of the student's cosine matrix over the same temperature, and the loss adds ``weight`` times the KL
divergence between the two (the same cells masked). In-batch negatives that the teacher finds close ("grinning face"
beside "smiling face") stop being pushed as far away as unrelated ones, and the student's text space takes the
teacher's shape on every source. ``skip_sources`` (shell patterns) names sources the teacher cannot read (captions in
languages an English teacher does not know).

Document-side distillation (``passage_teacher: {model: mpnet, weight: 1.0, temperature: 0.05}``): the same KL, between
the teacher's and the student's similarities of the batch's documents to each other (passages and hard negatives,
or media items through their captions), each document's own cell left out. InfoNCE only shapes query -> document
similarities; this shapes document <-> document ones, which a symmetric task (STS: two texts under one instruction)
reads. It costs no extra forward pass: the documents are embedded for InfoNCE already."""

from __future__ import annotations

import fnmatch

import torch
import torch.nn.functional as F

from . import Objective, logit_scale, register, scale_of


def duplicate_text_mask(texts: list[str], columns: int) -> torch.Tensor:
    """(B, columns) True where column j < B holds another pair with row i's text: false negatives to leave out."""
    mask = torch.zeros(len(texts), columns, dtype=torch.bool)
    for i, text in enumerate(texts):
        for j, other in enumerate(texts):
            mask[i, j] = i != j and text == other
    return mask


@register("infonce")
class InfoNCE(Objective):
    def __init__(
        self,
        temperature: float = 0.05,
        learnable_temperature: bool = True,
        symmetric: bool = True,
        query_instruction: str = "query",
        weight: float = 1.0,
        mask_duplicate_texts: bool = True,
        teacher: dict | None = None,
        passage_teacher: dict | None = None,
    ):
        super().__init__()
        self.logit_scale = logit_scale(temperature, learnable_temperature)
        self.symmetric, self.query_instruction, self.weight = symmetric, query_instruction, weight
        self.mask_duplicate_texts = mask_duplicate_texts
        self.teacher_settings = dict(teacher or {})
        self.passage_settings = dict(passage_teacher or {})
        for option, given in (("teacher", self.teacher_settings), ("passage_teacher", self.passage_settings)):
            unknown = sorted(set(given) - {"model", "weight", "temperature", "skip_sources"})
            if unknown:
                raise ValueError(f"infonce {option}: unknown settings {unknown}")
        self.teacher = self.passage_teacher = None

    def prepare(self, embedder) -> None:
        from ..teachers import TextTeacher

        if self.teacher_settings and self.teacher is None:
            self.teacher = TextTeacher(self.teacher_settings.get("model", "minilm"), str(embedder.device))
        if self.passage_settings and self.passage_teacher is None:
            model = self.passage_settings.get("model", "minilm")
            same = self.teacher is not None and self.teacher_settings.get("model", "minilm") == model
            self.passage_teacher = self.teacher if same else TextTeacher(model, str(embedder.device))

    def teaches(self, batch) -> bool:
        return reads(self.teacher, self.teacher_settings, batch)

    def distillation(self, batch, cosines: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """KL(teacher || student) over rows (text -> documents) and, when symmetric, columns (item -> texts), both
        similarity matrices at the teacher's temperature (as in knowledge distillation: a soft temperature softens
        both sides; the student's own, learned one stays InfoNCE's, so it is never taught to be flat)."""
        texts = self.teacher.embed(batch.texts)
        documents = self.teacher.embed(batch.item_texts() + batch.negatives)
        temperature = self.teacher_settings.get("temperature", 0.05)
        targets = (texts @ documents.T).to(cosines.device) / temperature
        logits = cosines / temperature
        if mask is not None:
            targets = targets.masked_fill(mask, float("-inf"))
            logits = logits.masked_fill(mask, float("-inf"))
        loss = soft_cross_entropy(logits, targets)
        if self.symmetric:
            count = len(batch.texts)
            loss = (loss + soft_cross_entropy(logits[:, :count].T, targets[:, :count].T)) / 2
        return loss

    def passage_distillation(self, batch, items: torch.Tensor) -> torch.Tensor:
        """KL(teacher || student) over each document's similarities to the batch's other documents, at the passage
        teacher's temperature; a document's own cell and its exact twins (one caption for two sounds) left out."""
        words = batch.item_texts() + batch.negatives
        vectors = self.passage_teacher.embed(words)
        temperature = self.passage_settings.get("temperature", 0.05)
        targets = (vectors @ vectors.T).to(items.device) / temperature
        logits = (items @ items.T) / temperature
        mask = duplicate_text_mask(words, len(words)).to(items.device) | torch.eye(
            len(words), dtype=torch.bool, device=items.device
        )
        rows = ~mask.all(dim=1)  # a document with no other in the batch has nothing to learn here
        if not rows.any():
            return items.new_zeros(())
        logits, targets = logits.masked_fill(mask, float("-inf"))[rows], targets.masked_fill(mask, float("-inf"))[rows]
        return soft_cross_entropy(logits, targets)

    def forward(self, embedder, batch):
        texts = batch.texts
        items = F.normalize(embedder.embed_items(batch.items + batch.negatives), dim=-1)  # (B + hard negatives, D)
        queries = F.normalize(embedder.embed_texts(texts, self.query_instruction), dim=-1)
        scale = scale_of(self.logit_scale)
        cosines = queries @ items.T  # (B, B + negatives): each text against every item and hard negative
        logits = scale * cosines
        mask = None
        if self.mask_duplicate_texts:
            mask = duplicate_text_mask(texts, logits.shape[1]).to(logits.device)
            logits = logits.masked_fill(mask, float("-inf"))
        target = torch.arange(len(texts), device=logits.device)
        loss = F.cross_entropy(logits, target)
        if self.symmetric:
            loss = (loss + F.cross_entropy(logits[:, : len(texts)].T, target)) / 2
        accuracy = (logits.argmax(dim=1) == target).float().mean()
        metrics = {"infonce": loss.item(), "in_batch_accuracy": accuracy.item(), "temperature": 1 / scale.item()}
        if self.teaches(batch):
            distill = self.distillation(batch, cosines, mask)
            metrics["distill"] = distill.item()
            loss = loss + self.teacher_settings.get("weight", 1.0) * distill
        if reads(self.passage_teacher, self.passage_settings, batch):
            passages = self.passage_distillation(batch, items)
            metrics["passage_distill"] = passages.item()
            loss = loss + self.passage_settings.get("weight", 1.0) * passages
        return self.weight * loss, metrics


def reads(teacher, settings: dict, batch) -> bool:
    """Whether a teacher is set and can read the batch's source (not one of its ``skip_sources``)."""
    skip = settings.get("skip_sources", [])
    return teacher is not None and not any(fnmatch.fnmatch(batch.source or "", pattern) for pattern in skip)


def soft_cross_entropy(logits: torch.Tensor, target_logits: torch.Tensor) -> torch.Tensor:
    """Mean over rows of KL(softmax(target) || softmax(logits)); cells at -inf in both are left out."""
    targets = target_logits.softmax(dim=-1)
    log_student = logits.log_softmax(dim=-1).masked_fill(targets == 0, 0.0)
    log_teacher = target_logits.log_softmax(dim=-1).masked_fill(targets == 0, 0.0)
    return (targets * (log_teacher - log_student)).sum(dim=-1).mean()
