"""The tower shortcut's map (encoders/shortcut.py): folding a standardization of its input into its first layer;
reading soft tokens pooled or side by side; an ensemble of maps."""

import pytest
import torch
import torch.nn.functional as F

from encoders.shortcut import Shortcut, ShortcutEnsemble, lay_out_tokens


@pytest.mark.parametrize("hidden_dim", [None, 16])  # a linear map and an MLP
def test_a_folded_standardization_reads_raw_features_as_the_map_read_standardized_ones(hidden_dim):
    torch.manual_seed(0)
    shortcut = Shortcut(6, 4, hidden_dim).eval()
    features = torch.randn(5, 6) * 3 + 2
    shift, scale = features.mean(0), torch.tensor([0.5, 1.0, 2.0, 4.0, 0.25, 1.0])
    with torch.no_grad():
        expected = shortcut((features - shift) / scale)
        shortcut.fold_standardization(shift, scale)
        torch.testing.assert_close(shortcut(features), expected, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(shortcut(features.unsqueeze(1)), expected, atol=1e-5, rtol=1e-5)  # soft tokens


def test_a_standardization_that_does_not_fit_the_map_is_refused():
    shortcut = Shortcut(6, 4)
    with pytest.raises(ValueError, match=r"\(5,\) shifts and \(5,\) scales does not fit a map that reads 6"):
        shortcut.fold_standardization(torch.zeros(5), torch.ones(5))
    with pytest.raises(ValueError, match="scales must all be positive"):
        shortcut.fold_standardization(torch.zeros(6), torch.tensor([1.0, 0.0, 1.0, 1.0, 1.0, 1.0]))


def test_a_map_reading_tokens_side_by_side_sees_their_order_and_reads_the_summary_once():
    torch.manual_seed(0)
    grid, summary = 3, 2
    tokens = torch.randn(5, 4, grid + summary)
    tokens[:, :, grid:] = torch.randn(5, 1, summary)  # the image summary: the same in every token
    laid_out = lay_out_tokens(tokens, 4, grid)
    assert laid_out.shape == (5, 4 * grid + summary)
    torch.testing.assert_close(laid_out[:, :grid], tokens[:, 0, :grid])
    torch.testing.assert_close(laid_out[:, 3 * grid : 4 * grid], tokens[:, 3, :grid])
    torch.testing.assert_close(laid_out[:, 4 * grid :], tokens[:, 0, grid:])
    side_by_side, pooled = Shortcut(4 * grid + summary, 6, 8, tokens=4, token_dim=grid).eval(), Shortcut(5, 6).eval()
    swapped = tokens[:, [1, 0, 3, 2]]  # the image mirrored left to right
    with torch.no_grad():
        torch.testing.assert_close(side_by_side(tokens), side_by_side(laid_out))
        assert not torch.allclose(side_by_side(swapped), side_by_side(tokens), atol=1e-4)
        torch.testing.assert_close(pooled(swapped), pooled(tokens))  # the mean cannot tell
    with pytest.raises(ValueError, match="reads 4 soft tokens side by side was given 3"):
        side_by_side(tokens[:, :3])
    with pytest.raises(ValueError, match="side by side needs their width"):
        Shortcut(14, 6, tokens=4)


def test_an_ensemble_reads_the_mean_of_its_members_unit_outputs():
    torch.manual_seed(0)
    members = [Shortcut(6, 4, 8).eval(), Shortcut(6, 4, 8).eval()]
    ensemble = ShortcutEnsemble(members)
    features = torch.randn(5, 6)
    with torch.no_grad():
        expected = (F.normalize(members[0](features), dim=-1) + F.normalize(members[1](features), dim=-1)) / 2
        torch.testing.assert_close(ensemble(features), expected)
        torch.testing.assert_close(ensemble(features.unsqueeze(1)), expected)  # soft tokens: laid out as a member would
        side_by_side = ShortcutEnsemble([Shortcut(8, 4, 8, tokens=2, token_dim=3).eval() for _ in range(2)])
        tokens = torch.randn(5, 2, 5)
        laid_out = lay_out_tokens(tokens, 2, 3)
        alone = [F.normalize(m(laid_out), dim=-1) for m in side_by_side.members]
        torch.testing.assert_close(side_by_side(tokens), (alone[0] + alone[1]) / 2)
        shift, scale = features.mean(0), torch.full((6,), 2.0)
        before = ensemble((features - shift) / scale)
        ensemble.fold_standardization(shift, scale)  # folded into every member
        torch.testing.assert_close(ensemble(features), before, atol=1e-5, rtol=1e-5)
    assert ensemble.in_dim == 6 and ensemble.tokens == 1
    with pytest.raises(ValueError, match="two or more members that read the same features"):
        ShortcutEnsemble([Shortcut(6, 4)])
    with pytest.raises(ValueError, match="two or more members that read the same features"):
        ShortcutEnsemble([Shortcut(6, 4), Shortcut(5, 4)])
