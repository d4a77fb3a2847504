"""Audio in, a mono float32 waveform at the tower's sample rate out, or a :class:`MediaError` saying why not.

Accepted: a path or encoded bytes (wav, flac, ogg and anything else libsndfile decodes; the content decides, not the
extension), or samples with their rate: ``(array, sample_rate)`` / ``{"audio": array, "sample_rate": sr}``, an
array being ``(samples,)`` or ``(channels, samples)``. Any rate is resampled (torchaudio), channels are averaged.
Policy: empty audio and NaN/infinite samples are errors; silence is valid audio and is embedded; audio longer than
``max_seconds`` is cut there, with a warning.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import soundfile
import torch
import torchaudio.functional as AF

from .errors import MediaError


def decode_audio(source) -> tuple[np.ndarray, int]:
    """(samples (frames, channels) float32, sample_rate) from a path or bytes."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise MediaError(f"no such audio file: {path}")
        if path.stat().st_size == 0:
            raise MediaError(f"{path} is an empty (zero-byte) file")
        handle = str(path)
    elif isinstance(source, (bytes, bytearray)):
        if not source:
            raise MediaError("empty audio bytes")
        handle = io.BytesIO(bytes(source))
    else:
        raise MediaError(f"cannot read audio from {type(source).__name__}")
    try:
        samples, rate = soundfile.read(handle, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        raise MediaError(f"not audio that libsndfile can decode (corrupt, or not audio): {error}") from None
    return samples, rate


def as_channels_first(samples) -> torch.Tensor:
    tensor = torch.as_tensor(np.asarray(samples) if not isinstance(samples, torch.Tensor) else samples).float()
    if tensor.ndim == 1:
        return tensor.unsqueeze(0)
    if tensor.ndim == 2:
        return tensor
    raise MediaError(f"audio array must be (samples,) or (channels, samples), got shape {tuple(tensor.shape)}")


def load_audio(source, sample_rate: int | None = None, target_rate: int = 16_000, max_seconds: float = 600.0) -> torch.Tensor:
    """Mono float32 waveform (samples,) at ``target_rate``."""
    if isinstance(source, (str, Path, bytes, bytearray)) and sample_rate is None:
        samples, sample_rate = decode_audio(source)
        waveform = torch.from_numpy(samples.T.copy())
    else:
        if sample_rate is None:
            raise MediaError("audio samples need their sample rate: pass (array, sample_rate) or {'audio': array, 'sample_rate': sr}")
        waveform = as_channels_first(source)
    if not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise MediaError(f"sample rate must be a positive integer, got {sample_rate!r}")
    if waveform.numel() == 0 or waveform.shape[-1] == 0:
        raise MediaError("empty audio (0 samples)")
    if not torch.isfinite(waveform).all():
        raise MediaError("audio contains NaN or infinite samples")
    mono = waveform.mean(dim=0)
    limit = int(max_seconds * sample_rate)
    if mono.shape[0] > limit:
        warnings.warn(f"audio of {mono.shape[0] / sample_rate:.0f} s cut to its first {max_seconds:.0f} s", stacklevel=2)
        mono = mono[:limit]
    if sample_rate != target_rate:
        mono = AF.resample(mono, int(sample_rate), target_rate)
    return mono.contiguous()
