"""UniMAE: masked autoregression with a tiny decoder that must rebuild the whole input from the mode-token state.

Part of the input tokens are masked; the embedder encodes the masked input; a one-layer causal Transformer decoder,
conditioned only on the ``<|embed|>`` state (as its first position), predicts the original tokens with teacher
forcing through the LLM's own (frozen) input and output embeddings. Gradients push the sentence's content into the
mode-token state. The decoder belongs to the objective and is discarded after training."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import Objective, register


@register("unimae")
class UniMAE(Objective):
    def __init__(
        self,
        hidden_size: int | None = None,
        mask_fraction: float = 0.3,
        heads: int = 4,
        weight: float = 1.0,
        seed: int = 0,
    ):
        super().__init__()
        self.mask_fraction, self.weight, self.heads = mask_fraction, weight, heads
        self.decoder: nn.Module | None = None  # built on the first batch, when the LLM's width is known
        self.generator = torch.Generator().manual_seed(seed)

    def prepare(self, embedder) -> None:
        if self.decoder is None:
            self._build(embedder.hidden_size, embedder.device)

    def _build(self, width: int, device) -> None:
        heads = self.heads if width % self.heads == 0 else 1
        self.decoder = nn.TransformerEncoderLayer(
            width, heads, dim_feedforward=2 * width, batch_first=True, dropout=0.0
        ).to(device)

    def forward(self, embedder, batch):
        tokens = embedder.tokenize(batch.texts, None).to(embedder.device)
        content = embedder.content_mask(tokens)
        chosen = (torch.rand(content.shape, generator=self.generator) < self.mask_fraction).to(content.device) & content
        hidden = embedder.token_states(embedder.mask_tokens(tokens, chosen))
        rows = torch.arange(hidden.shape[0], device=hidden.device)
        state = hidden[rows, tokens.last_index]  # the <|embed|> state
        if self.decoder is None:
            self._build(state.shape[-1], state.device)
        embed_in = embedder.causal_lm.get_input_embeddings()
        targets = tokens.input_ids.masked_fill(~content, -100)  # rebuild the content tokens only
        inputs = torch.cat([state[:, None], embed_in(tokens.input_ids)[:, :-1].detach()], dim=1).to(state.dtype)
        causal = nn.Transformer.generate_square_subsequent_mask(inputs.shape[1], device=inputs.device)
        decoded = self.decoder(inputs, src_mask=causal, is_causal=True)
        logits = F.linear(decoded, embed_in.weight.detach())
        loss = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), ignore_index=-100)
        return self.weight * loss, {"unimae": loss.item()}
