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
from torchaudio.transforms import Resample

from .errors import MediaError


def decode_audio(source, max_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """(samples (frames, channels) float32, sample_rate) from a path or bytes.

    At most ``max_seconds`` are decoded (the length is read from the header first): an hour of silence is a 0.5 MB FLAC
    but 700 MB of samples, so a small file must not cost what its declared length would."""
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
        with soundfile.SoundFile(handle) as audio:
            rate, declared = audio.samplerate, audio.frames
            limit = -1 if max_seconds is None else int(max_seconds * rate)
            samples = audio.read(frames=limit, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        raise MediaError(f"not audio that libsndfile can decode (corrupt, or not audio): {error}") from None
    if limit >= 0 and declared > limit:
        warnings.warn(f"audio of {declared / rate:.0f} s cut to its first {max_seconds:.0f} s", stacklevel=3)
    return samples, rate


def declared_seconds(data: bytes) -> float | None:
    """The duration an encoded clip's header declares (no samples decoded), or None when it cannot be read."""
    try:
        info = soundfile.info(io.BytesIO(data))
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError):
        return None
    return info.frames / info.samplerate if info.samplerate > 0 and info.frames >= 0 else None


def as_channels_first(samples) -> torch.Tensor:
    tensor = torch.as_tensor(np.asarray(samples) if not isinstance(samples, torch.Tensor) else samples).float()
    if tensor.ndim == 1:
        return tensor.unsqueeze(0)
    if tensor.ndim == 2:
        return tensor
    raise MediaError(f"audio array must be (samples,) or (channels, samples), got shape {tuple(tensor.shape)}")


def load_audio(
    source, sample_rate: int | None = None, target_rate: int = 16_000, max_seconds: float = 600.0
) -> torch.Tensor:
    """Mono float32 waveform (samples,) at ``target_rate``."""
    if isinstance(source, (str, Path, bytes, bytearray)) and sample_rate is None:
        samples, sample_rate = decode_audio(source, max_seconds)
        waveform = torch.from_numpy(samples).T  # a view: no copy of a long clip
    else:
        if sample_rate is None:
            raise MediaError(
                "audio samples need their sample rate: pass (array, sample_rate) or {'audio': array, 'sample_rate': sr}"
            )
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
        warnings.warn(
            f"audio of {mono.shape[0] / sample_rate:.0f} s cut to its first {max_seconds:.0f} s", stacklevel=2
        )
        mono = mono[:limit]
    if sample_rate != target_rate:
        mono = resample(mono, int(sample_rate), target_rate)
    return mono.contiguous()


def resample(mono: torch.Tensor, rate: int, target_rate: int, chunk_seconds: float = 30.0) -> torch.Tensor:
    """torchaudio's sinc resampling, done in chunks of ``chunk_seconds`` with enough context on each side that every
    output sample sees exactly the inputs it would in one pass (equal to it up to float rounding). One pass over 10
    minutes at 48 kHz holds ~0.75 GB of intermediates; chunks hold what 30 s need."""
    resampler = Resample(rate, target_rate, dtype=mono.dtype)  # builds the kernel once for every chunk
    step, outputs_per_step = rate // resampler.gcd, target_rate // resampler.gcd  # inputs -> outputs, in whole groups
    chunk = step * max(1, int(chunk_seconds * rate) // step)
    total = mono.shape[0]
    if total <= chunk:
        return resampler(mono)
    context = step * (resampler.width // step + 2)  # more than the filter's reach, a whole number of groups
    pieces = []
    for start in range(0, total, chunk):
        end = min(start + chunk, total)
        low, high = max(start - context, 0), min(end + context, total)
        skip = (start - low) // step * outputs_per_step
        wanted = -(-(end - start) * outputs_per_step // step)  # ceil: the last chunk may end inside a group
        pieces.append(resampler(mono[low:high])[skip : skip + wanted])
    return torch.cat(pieces)
