"""Length-sorted batching: sequences of similar length share a batch, so little compute goes to padding."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch

from .sequences import TokenSequence


@dataclass
class MediaSlots:
    """Where one modality's soft tokens go: rows of the batch, first placeholder position, tower features."""

    rows: torch.Tensor  # (M,)
    starts: torch.Tensor  # (M,)
    features: torch.Tensor  # (M, num_tokens, F)

    def to(self, device, non_blocking: bool = False) -> MediaSlots:
        return MediaSlots(*(t.to(device, non_blocking=non_blocking) for t in (self.rows, self.starts, self.features)))


@dataclass
class TokenBatch:
    input_ids: torch.Tensor  # (B, T), right-padded
    attention_mask: torch.Tensor  # (B, T) 1 for real tokens
    pool_mask: torch.Tensor  # (B, T) 1 for tokens a mean pooling covers
    last_index: torch.Tensor  # (B,) position of the mode token
    media: dict[str, MediaSlots] = field(default_factory=dict)

    def tensors(self) -> tuple[torch.Tensor, ...]:
        return self.input_ids, self.attention_mask, self.pool_mask, self.last_index

    def to(self, device: torch.device | str, non_blocking: bool = False) -> TokenBatch:
        moved = (tensor.to(device, non_blocking=non_blocking) for tensor in self.tensors())
        return TokenBatch(*moved, media={k: v.to(device, non_blocking) for k, v in self.media.items()})

    def with_input_ids(self, input_ids: torch.Tensor) -> TokenBatch:
        """The same batch (masks, pooling, media slots) over other token ids of the same shape (masked tokens)."""
        if input_ids.shape != self.input_ids.shape:
            raise ValueError(
                f"input ids of shape {tuple(input_ids.shape)} for a batch of {tuple(self.input_ids.shape)}"
            )
        return dataclasses.replace(self, input_ids=input_ids)

    def pin_memory(self) -> TokenBatch:
        return TokenBatch(*(tensor.pin_memory() for tensor in self.tensors()), media=self.media)


def length_sorted_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches, longest first (a memory error, if any, shows at once)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def collate(sequences: list[TokenSequence], pad_id: int) -> TokenBatch:
    """Right-pad sequences into one batch (one tensor construction per field, no per-row loops in torch)."""
    longest = max(len(sequence.ids) for sequence in sequences)
    input_ids = torch.tensor([s.ids + [pad_id] * (longest - len(s.ids)) for s in sequences], dtype=torch.long)
    lengths = torch.tensor([len(s.ids) for s in sequences])
    starts = torch.tensor([s.pool_start for s in sequences])
    positions = torch.arange(longest)
    attention_mask = (positions < lengths[:, None]).long()
    pool_mask = ((positions >= starts[:, None]) & (positions < lengths[:, None])).long()
    media = {}
    for kind in sorted({s.media_kind for s in sequences if s.media_kind}):
        rows = [row for row, s in enumerate(sequences) if s.media_kind == kind]
        media[kind] = MediaSlots(
            rows=torch.tensor(rows),
            starts=torch.tensor([sequences[r].media_start for r in rows]),
            features=torch.stack([sequences[r].features for r in rows]),
        )
    return TokenBatch(input_ids, attention_mask, pool_mask, lengths - 1, media)
