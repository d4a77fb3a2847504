"""Peer models evaluated beside ours in the same run. Each peer offers the part of the Embedder interface the tasks
use (``encode(items, instruction=..., batch_size=...)``) for the modalities it covers."""

from __future__ import annotations

import numpy as np


class SentenceModelPeer:
    """A packaged sentence-transformers model (mmembed/sentence_models.py): mean pooling, normalised, text only."""

    name = "all-MiniLM-L6-v2"

    def encode(self, items, instruction=None, batch_size: int = 64, **_) -> np.ndarray:
        from ..sentence_models import sentence_embed

        items = [items] if isinstance(items, str) else list(items)
        if not all(isinstance(item, str) for item in items):
            raise ValueError(f"{self.name} embeds text only")
        return sentence_embed(self.name, items, batch_size=batch_size, device="cpu", progress=False)


class MiniLMPeer(SentenceModelPeer):
    name = "all-MiniLM-L6-v2"


class MPNetPeer(SentenceModelPeer):
    name = "all-mpnet-base-v2"


PEERS = {"minilm": MiniLMPeer, "mpnet": MPNetPeer}


class ASRCascadePeer:
    """The speech peer: Whisper transcribes each audio item (the packaged tiny.en, greedy), all-MiniLM-L6-v2 embeds
    the transcript; text is embedded by MiniLM directly. Images get NaN rows in a mixed call, and a call of images
    alone is refused (the cascade has no eyes)."""

    name = "ASR cascade (Whisper tiny.en + MiniLM)"

    def __init__(self, source: str = "packaged:tiny.en"):
        from ..packaged_whisper import whisper_transcriber

        self.transcriber = whisper_transcriber(source)
        self.text = MiniLMPeer()
        self.transcripts: dict[int, str] = {}  # the last call's, by item position (for error analysis)

    def encode(self, items, instruction=None, batch_size: int = 64, **_) -> np.ndarray:
        from ..inputs import parse_input

        items = [items] if isinstance(items, str) else list(items)
        texts: dict[int, str] = {i: item for i, item in enumerate(items) if isinstance(item, str)}
        waves, images = {}, 0
        for i, item in enumerate(items):
            if i not in texts:
                try:
                    parsed = parse_input(i, item)
                except ValueError:
                    continue
                if parsed.media_kind == "audio":
                    waves[i] = parsed.audio
                else:
                    images += 1
        if images and not waves:
            raise ValueError(f"{self.name} embeds speech and text, not images")
        self.transcripts = dict(zip(waves, self.transcriber.transcribe(list(waves.values()), progress=len(waves) > 32)))
        texts |= self.transcripts
        out = np.full((len(items), 384), np.nan, dtype=np.float32)
        if texts:
            order = sorted(texts)
            out[order] = self.text.encode([texts[i] or " " for i in order], batch_size=batch_size)
        return out


PEERS["asr"] = ASRCascadePeer

from .lit_peer import LiTPeer  # noqa: E402 (it builds on MiniLMPeer, defined above)

PEERS["lit"] = LiTPeer
