"""The symmetric contrastive loss shared by the linear-map fits (mmembed/contrastive.py)."""

import math

import torch
import torch.nn.functional as F

from mmembed.contrastive import shared_targets, symmetric_clip_loss


def test_the_loss_is_the_mean_of_both_directions_cross_entropy():
    torch.manual_seed(0)
    a, b = F.normalize(torch.randn(5, 8), dim=-1), F.normalize(torch.randn(5, 8), dim=-1)
    logits = 10.0 * a @ b.T
    rows = -torch.log_softmax(logits, dim=1).diagonal().mean()
    columns = -torch.log_softmax(logits, dim=0).diagonal().mean()
    torch.testing.assert_close(symmetric_clip_loss(a, b, 10.0), (rows + columns) / 2)
    assert symmetric_clip_loss(a, a, 100.0) < 1e-3 < symmetric_clip_loss(a, b, 100.0)  # matched pairs: near 0


def test_rows_sharing_a_target_are_not_each_others_negatives():
    same = shared_targets(torch.tensor([0, 1, 0, 2]))
    assert same.tolist() == [
        [False, False, True, False],
        [False, False, False, False],
        [True, False, False, False],
        [False, False, False, False],
    ]
    texts = F.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), dim=-1)  # rows 0 and 2: one caption
    unmasked = symmetric_clip_loss(texts, texts, 50.0)
    masked = symmetric_clip_loss(texts, texts, 50.0, shared_targets(torch.tensor([0, 1, 0])))
    assert unmasked > 0.5 * math.log(2) and masked < 1e-6  # a duplicate caption no longer counts against its twin
