"""The tower shortcut: a map from a media item's mean-pooled tower features straight into the embedding space.

The projector's soft tokens reach the vector only through the LLM, which must learn to read them; a LiT-style
linear head on the same frozen features reaches it in one step. An item's vector blends the two (the embedder does
that, with the weight in its config); the LLM path is kept, so generation and the text side are untouched.

A shortcut is linear by default; with ``hidden_dim`` it is a two-layer MLP (GELU, dropout while it trains), which a
final shortcut (mmembed/final_shortcut.py) may use. It reads the mean of an item's soft tokens, or with ``tokens``
(> 1) the tokens side by side (an image's 2 x 2 layout: where things are, which the mean throws away), each
``token_dim`` grid features, and the image summary that follows them once (``lay_out_tokens``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def lay_out_tokens(features: torch.Tensor, tokens: int, token_dim: int) -> torch.Tensor:
    """(B, num_tokens, F) soft-token features -> (B, tokens * token_dim + F - token_dim): the tokens' leading
    ``token_dim`` (grid) features side by side, then the rest of the first token's (the image summary, the same in
    every token); ``tokens`` 1: their mean over the tokens."""
    if tokens == 1:
        return features.mean(dim=1)
    if features.shape[1] != tokens:
        raise ValueError(f"a map that reads {tokens} soft tokens side by side was given {features.shape[1]}")
    return torch.cat([features[:, :, :token_dim].flatten(1), features[:, 0, token_dim:]], dim=1)


class Shortcut(nn.Module):
    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        hidden_dim: int | None = None,
        dropout: float = 0.0,
        tokens: int = 1,
        token_dim: int | None = None,
    ):
        super().__init__()
        if tokens > 1 and (token_dim is None or tokens * token_dim > in_dim):
            raise ValueError(f"a map reading {tokens} tokens side by side needs their width, at most in_dim / tokens")
        self.tokens, self.token_dim = tokens, token_dim
        if hidden_dim:
            self.mlp = nn.Sequential(
                nn.Linear(in_dim, hidden_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden_dim, out_dim)
            )
        else:
            self.linear = nn.Linear(in_dim, out_dim)

    @property
    def in_dim(self) -> int:
        return (self.mlp[0] if hasattr(self, "mlp") else self.linear).in_features

    def fold_standardization(self, shift: torch.Tensor, scale: torch.Tensor) -> None:
        """After a fit on standardized features ``(x - shift) / scale`` (each ``(in_dim,)``), fold the
        standardization into the first layer, so the map reads raw features and computes the same function (to
        float rounding): ``W (x - shift) / scale + b = (W / scale) x + (b - (W / scale) shift)``."""
        first = self.mlp[0] if hasattr(self, "mlp") else self.linear
        if shift.shape != (self.in_dim,) or scale.shape != (self.in_dim,):
            raise ValueError(
                f"a standardization of {tuple(shift.shape)} shifts and {tuple(scale.shape)} scales does not fit a "
                f"map that reads {self.in_dim} features"
            )
        if not bool((scale > 0).all()):
            raise ValueError("a standardization's scales must all be positive")
        with torch.no_grad():
            weight = first.weight / scale.to(first.weight)
            first.bias.sub_(weight @ shift.to(first.weight))
            first.weight.copy_(weight)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(B, num_tokens, F) soft-token features, or (B, F) ones already laid out (pooled, or side by side) ->
        (B, out_dim): the leading ``in_dim`` features are read (a map built without the image summary that follows
        the grid features ignores it)."""
        if features.dim() == 3:
            features = lay_out_tokens(features, self.tokens, self.token_dim)
        layer = self.mlp if hasattr(self, "mlp") else self.linear
        return layer(features[..., : self.in_dim].to(next(self.parameters()).dtype))


class ShortcutEnsemble(nn.Module):
    """Maps of one input fitted apart (their seeds differ), read as the mean of their unit outputs: bagging, so less
    of any one fit's variance reaches the vector (docs/results/image-map-side-by-side.md: two seeds of g1.5's image
    map score 0.455 on check and selection rows, one 0.448)."""

    def __init__(self, members: list[Shortcut]):
        super().__init__()
        if len(members) < 2 or len({m.in_dim for m in members}) != 1:
            raise ValueError("an ensemble of maps needs two or more members that read the same features")
        self.members = nn.ModuleList(members)

    @property
    def in_dim(self) -> int:
        return self.members[0].in_dim

    @property
    def tokens(self) -> int:
        return self.members[0].tokens

    def fold_standardization(self, shift: torch.Tensor, scale: torch.Tensor) -> None:
        for member in self.members:
            member.fold_standardization(shift, scale)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.dim() == 3:  # laid out once for every member (they read the same features)
            features = lay_out_tokens(features, self.tokens, self.members[0].token_dim)
        return torch.stack([F.normalize(member(features).float(), dim=-1) for member in self.members]).mean(dim=0)
