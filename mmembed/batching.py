"""Length-sorted batching: sequences of similar length share a batch, so little compute goes to padding."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .text_inputs import TokenSequence


@dataclass
class TokenBatch:
    input_ids: torch.Tensor  # (B, T), right-padded
    attention_mask: torch.Tensor  # (B, T) 1 for real tokens
    pool_mask: torch.Tensor  # (B, T) 1 for tokens a mean pooling covers
    last_index: torch.Tensor  # (B,) position of the mode token

    def to(self, device: torch.device | str) -> "TokenBatch":
        return TokenBatch(*(tensor.to(device) for tensor in (self.input_ids, self.attention_mask, self.pool_mask, self.last_index)))


def length_sorted_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches, longest first (a memory error, if any, shows at once)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def collate(sequences: list[TokenSequence], pad_id: int) -> TokenBatch:
    longest = max(len(sequence.ids) for sequence in sequences)
    size = (len(sequences), longest)
    input_ids = torch.full(size, pad_id, dtype=torch.long)
    attention_mask = torch.zeros(size, dtype=torch.long)
    pool_mask = torch.zeros(size, dtype=torch.long)
    for row, sequence in enumerate(sequences):
        length = len(sequence.ids)
        input_ids[row, :length] = torch.tensor(sequence.ids, dtype=torch.long)
        attention_mask[row, :length] = 1
        pool_mask[row, sequence.pool_start : length] = 1
    last_index = attention_mask.sum(dim=1) - 1
    return TokenBatch(input_ids, attention_mask, pool_mask, last_index)
