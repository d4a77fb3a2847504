"""Frozen audio tower: torchaudio log-mel front end (Whisper's recipe) + a Whisper encoder.

``forward(waveforms) -> (B, num_tokens, feature_dim)``. Whisper sees 30 s windows: shorter audio is zero-padded to
30 s as Whisper was trained, and only the encoder frames that cover real audio (one per 20 ms) are kept; longer audio
is cut into ``chunk_seconds`` chunks, all encoded in one batch, and the kept frames of all chunks are average-pooled
in time order into ``num_tokens`` soft tokens.
"""

from __future__ import annotations

import math

import torch
import torchaudio
from torch import nn

from .config import AudioTowerConfig
from .grid_pooling import pool_frames

SAMPLE_RATE, HOP, WINDOW_SECONDS = 16_000, 160, 30


def load_whisper_encoder(location: str):
    """The encoder of a Whisper checkpoint: a folder (a converted encoder alone, or a whole model) or a hub id."""
    from transformers import WhisperConfig, WhisperModel
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    config = WhisperConfig.from_pretrained(location)
    if (config.architectures or [None])[0] == "WhisperEncoder":
        return WhisperEncoder.from_pretrained(location)
    return WhisperModel.from_pretrained(location).get_encoder()  # a full Whisper checkpoint (hub id or folder)


class WhisperAudioTower(nn.Module):
    sample_rate = SAMPLE_RATE

    def __init__(self, config: AudioTowerConfig, encoder: nn.Module | None = None, location: str | None = None):
        """``location``: where the weights are (a folder or hub id; default ``config.source``, which mmembed resolves
        first when it names packaged weights); ``encoder``: an already loaded Whisper encoder instead."""
        super().__init__()
        self.config = config
        self.encoder = (encoder or load_whisper_encoder(location or config.source)).eval().requires_grad_(False)
        self.feature_dim = self.encoder.config.d_model
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=SAMPLE_RATE,
            n_fft=400,
            hop_length=HOP,
            n_mels=self.encoder.config.num_mel_bins,
            mel_scale="slaney",
            norm="slaney",
            power=2.0,
            center=True,
            pad_mode="reflect",
        )
        self.window_samples = WINDOW_SECONDS * SAMPLE_RATE
        self.chunk_samples = int(config.chunk_seconds * SAMPLE_RATE)

    def train(self, mode: bool = True):
        return super().train(False)

    def log_mel(self, chunks: torch.Tensor) -> torch.Tensor:
        """Whisper's log-mel of chunks (samples,) or (C, samples), zero-padded to 30 s -> (n_mels, 3000) or
        (C, n_mels, 3000). Runs wherever the chunks are (batched on the GPU when there is one)."""
        single = chunks.ndim == 1
        batch = chunks.unsqueeze(0) if single else chunks
        padded = torch.nn.functional.pad(batch, (0, self.window_samples - batch.shape[-1]))
        spec = self.mel(padded.to(self.mel.spectrogram.window.device))[..., :-1].clamp_min(1e-10).log10()
        spec = torch.maximum(spec, spec.amax(dim=(-2, -1), keepdim=True) - 8.0)
        spec = (spec + 4.0) / 4.0
        return spec[0] if single else spec

    @torch.no_grad()
    def forward(self, waveforms: list[torch.Tensor], on_encoded=None) -> torch.Tensor:
        """``on_encoded(chunks, states)``, when given, receives each chunk's samples and its encoder states (all of
        the 30 s window's frames) before pooling: Whisper's decoder reads the same states to transcribe them."""
        parameter = next(self.encoder.parameters())
        chunks, owners = [], []
        for index, wave in enumerate(waveforms):
            for start in range(0, max(wave.shape[0], 1), self.chunk_samples):
                chunks.append(wave[start : start + self.chunk_samples])
                owners.append(index)
        padded = torch.stack([torch.nn.functional.pad(c, (0, self.window_samples - c.shape[0])) for c in chunks])
        mels = self.log_mel(padded.to(parameter.device, non_blocking=True))
        frames = self.encoder(mels.to(parameter.dtype)).last_hidden_state
        if on_encoded is not None:
            on_encoded(chunks, frames)
        frames = frames.float()
        kept: list[list[torch.Tensor]] = [[] for _ in waveforms]
        for chunk, owner, states in zip(chunks, owners, frames):
            count = max(1, min(states.shape[0], math.ceil(chunk.shape[0] / (2 * HOP))))
            kept[owner].append(states[:count])
        return torch.stack([pool_frames(torch.cat(parts), self.config.num_tokens) for parts in kept])


def build_audio_tower(config: AudioTowerConfig, location: str | None = None) -> WhisperAudioTower:
    return WhisperAudioTower(config, location=location)
