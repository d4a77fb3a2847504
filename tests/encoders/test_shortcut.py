"""The tower shortcut's map (encoders/shortcut.py): folding a standardization of its input into its first layer."""

import pytest
import torch

from encoders.shortcut import Shortcut


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
