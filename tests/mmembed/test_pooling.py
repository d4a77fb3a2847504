import pytest
import torch

from mmembed.pooling import pool


@pytest.fixture
def hidden():
    # batch of 2, 4 positions, 2 dims; row 1 is padded after position 2
    return torch.tensor(
        [[[1.0, 0.0], [3.0, 2.0], [5.0, 4.0], [7.0, 6.0]], [[2.0, 2.0], [4.0, 0.0], [6.0, 8.0], [100.0, 100.0]]]
    )


def test_mean_skips_instruction_and_padding(hidden):
    mask = torch.tensor([[0, 1, 1, 1], [0, 1, 1, 0]])  # position 0 is instruction, row 1 pads position 3
    out = pool(hidden, mask, torch.tensor([3, 2]), "mean")
    torch.testing.assert_close(out, torch.tensor([[5.0, 4.0], [5.0, 4.0]]))


def test_weighted_mean_weights_later_tokens_more(hidden):
    mask = torch.tensor([[0, 1, 1, 1], [0, 1, 1, 0]])
    out = pool(hidden, mask, torch.tensor([3, 2]), "weighted_mean")
    # row 0: weights 1,2,3 on positions 1..3 -> (3+10+21)/6, (2+8+18)/6 ; row 1: weights 1,2 -> (4+12)/3, (0+16)/3
    torch.testing.assert_close(out, torch.tensor([[34 / 6, 28 / 6], [16 / 3, 16 / 3]]))


def test_last_takes_the_mode_token(hidden):
    out = pool(hidden, torch.ones(2, 4), torch.tensor([3, 2]), "last")
    torch.testing.assert_close(out, torch.tensor([[7.0, 6.0], [6.0, 8.0]]))


def test_unknown_mode_is_refused(hidden):
    with pytest.raises(ValueError, match="unknown pooling"):
        pool(hidden, torch.ones(2, 4), torch.tensor([3, 3]), "max")
