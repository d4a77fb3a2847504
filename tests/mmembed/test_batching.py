import pytest
import torch

from mmembed.batching import collate, length_sorted_batches
from mmembed.sequences import TokenSequence


def test_every_index_once_longest_first():
    lengths = [3, 10, 1, 7, 7, 2, 9]
    batches = length_sorted_batches(lengths, batch_size=3)
    assert sorted(i for b in batches for i in b) == list(range(7))
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(lengths, reverse=True)
    assert [len(b) for b in batches] == [3, 3, 1]


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError, match="batch_size"):
        length_sorted_batches([1, 2], 0)


def test_collate_masks():
    batch = collate([TokenSequence([1, 2, 3, 4], pool_start=2), TokenSequence([5, 6], pool_start=1)], pad_id=0)
    assert batch.input_ids.tolist() == [[1, 2, 3, 4], [5, 6, 0, 0]]
    assert batch.attention_mask.tolist() == [[1, 1, 1, 1], [1, 1, 0, 0]]
    assert batch.pool_mask.tolist() == [[0, 0, 1, 1], [0, 1, 0, 0]]
    assert batch.last_index.tolist() == [3, 1]
    assert batch.to("cpu").input_ids.dtype == torch.long
