"""Text teachers for distillation: a packaged sentence-transformers model (all-MiniLM-L6-v2 or all-mpnet-base-v2)
embeds the texts of each batch; its in-batch similarity matrix becomes soft targets for the student's (see
``infonce``'s ``teacher`` option). The teacher is frozen and its vectors are memoised per text, so a text seen again in
a later step costs nothing."""

from __future__ import annotations

import torch

from mmembed.sentence_models import FOLDERS, sentence_embed

TEACHERS = {"minilm": "all-MiniLM-L6-v2", "mpnet": "all-mpnet-base-v2"}


class TextTeacher:
    def __init__(self, model: str = "minilm", device: str | None = None, batch_size: int = 64):
        name = TEACHERS.get(model, model)
        if name not in FOLDERS:
            raise ValueError(f"unknown teacher {model!r}; known: {sorted(TEACHERS)} or {sorted(FOLDERS)}")
        self.name, self.device, self.batch_size = name, device, batch_size
        self.memory: dict[str, torch.Tensor] = {}

    def embed(self, texts: list[str]) -> torch.Tensor:
        """(len(texts), D) unit vectors on the CPU, float32."""
        new = sorted({t for t in texts if t not in self.memory})
        if new:
            vectors = sentence_embed(self.name, new, self.batch_size, self.device, progress=False)
            self.memory.update(zip(new, torch.from_numpy(vectors)))
        return torch.stack([self.memory[t] for t in texts])
