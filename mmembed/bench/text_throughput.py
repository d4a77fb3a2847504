"""Text throughput of ``Embedder.encode`` against (a) the raw backbone forward pass on the very same token batches
(the ceiling: encode's own overhead is tokenizing, collating, pooling) and (b) a naive Hugging Face loop: unsorted
batches padded to their longest text, forward, masked mean pooling (what most hand-written code does).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from ..batching import collate, length_sorted_batches
from .corpus import mixed_length_corpus
from .timing import best_of


@dataclass
class TextThroughput:
    texts: int
    tokens: int
    encode_s: float
    raw_forward_s: float
    naive_loop_s: float
    minilm_s: float | None = None  # all-MiniLM-L6-v2 on the same texts (a 22M text-only peer), when installed
    peak_rss_mb: float = 0.0

    @property
    def rows(self) -> list[tuple[str, float, float]]:
        rows = [
            ("encode()", self.encode_s),
            ("raw forward (same batches)", self.raw_forward_s),
            ("naive HF loop", self.naive_loop_s),
        ]
        if self.minilm_s:
            rows.append(("all-MiniLM-L6-v2 (peer)", self.minilm_s))
        return [(name, self.texts / seconds, self.tokens / seconds) for name, seconds in rows]

    def report(self) -> str:
        lines = [f"{'method':<28} {'texts/s':>9} {'tokens/s':>10}"]
        lines += [f"{name:<28} {tps:>9.1f} {toks:>10.0f}" for name, tps, toks in self.rows]
        lines.append(f"encode / raw forward = {self.raw_forward_s / self.encode_s:.3f}   (target >= 0.9)")
        lines.append(f"encode / naive loop  = {self.naive_loop_s / self.encode_s:.3f}   (target >= 1.5)")
        lines.append(
            f"peak resident memory of this process: {self.peak_rss_mb:.0f} MB (tokens/s of the peer count our tokens)"
        )
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {
                **asdict(self),
                "encode_vs_raw": self.raw_forward_s / self.encode_s,
                "encode_vs_naive": self.naive_loop_s / self.encode_s,
            },
            indent=2,
        )


def naive_loop(embedder, texts: list[str], batch_size: int) -> torch.Tensor:
    tokenizer, decoder, out = embedder.tokenizer, embedder.decoder, []
    tokenizer.padding_side = "right"
    for start in range(0, len(texts), batch_size):
        encoded = tokenizer(
            texts[start : start + batch_size],
            padding=True,
            truncation=True,
            max_length=embedder.config.max_length,
            return_tensors="pt",
        ).to(embedder.device)
        hidden = decoder(**encoded).last_hidden_state
        mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        out.append(F.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1))
    return torch.cat(out)


def measure(
    embedder, n_texts: int = 128, max_words: int = 300, batch_size: int = 16, repeats: int = 3, seed: int = 0
) -> TextThroughput:
    texts = mixed_length_corpus(n_texts, max_words=max_words, seed=seed)
    sequences = embedder.sequences.tokenize(texts, None)
    batches = [
        collate([sequences[i] for i in b], embedder.pad_id).to(embedder.device)
        for b in length_sorted_batches([len(s.ids) for s in sequences], batch_size)
    ]
    decoder = embedder.decoder

    def raw_forward():
        for batch in batches:
            decoder(input_ids=batch.input_ids, attention_mask=batch.attention_mask, use_cache=False)

    with torch.inference_mode():
        encode_s = best_of(lambda: embedder.encode(texts, batch_size=batch_size, show_progress_bar=False), repeats)
        raw_s = (
            best_of(raw_forward, repeats)
            if embedder.config.attention == "causal"
            else best_of(lambda: [embedder.token_states(b) for b in batches], repeats)
        )
        naive_s = best_of(lambda: naive_loop(embedder, texts, batch_size), repeats)
    minilm_s = None
    try:
        from ..sentence_models import minilm_embed, minilm_folder

        minilm_folder()
        minilm_s = best_of(
            lambda: minilm_embed(texts, batch_size=batch_size, device=str(embedder.device), progress=False), repeats
        )
    except FileNotFoundError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return TextThroughput(len(texts), sum(len(s.ids) for s in sequences), encode_s, raw_s, naive_s, minilm_s, peak)
