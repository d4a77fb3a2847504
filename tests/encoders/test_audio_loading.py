"""Audio decoding policy: any rate and channel count in, mono 16 kHz out; bad audio refused with a reason."""

import numpy as np
import pytest
import torch
from media_files import tone, write_audio

from encoders import MediaError, load_audio


@pytest.mark.parametrize("suffix", ["wav", "flac", "ogg"])
def test_formats_decode_to_mono_16k(tmp_path, suffix):
    path = write_audio(tmp_path / f"a.{suffix}", seconds=0.5, rate=16_000)
    wave = load_audio(path)
    assert wave.dtype == torch.float32 and wave.ndim == 1 and abs(wave.shape[0] - 8000) <= 1


@pytest.mark.parametrize("rate,channels", [(8_000, 1), (48_000, 2), (44_100, 2)])
def test_any_rate_and_stereo_are_resampled(tmp_path, rate, channels):
    wave = load_audio(write_audio(tmp_path / "a.wav", seconds=1.0, rate=rate, channels=channels))
    assert abs(wave.shape[0] - 16_000) <= 2
    spectrum = np.abs(np.fft.rfft(wave.numpy()))
    assert abs(np.argmax(spectrum) - 440) <= 2  # the 440 Hz tone survives resampling


def test_samples_with_their_rate():
    stereo = torch.from_numpy(tone(1.0, 48_000, channels=2).T.copy())  # (channels, samples)
    assert load_audio(stereo, 48_000).shape == (16_000,)
    assert load_audio(tone(0.5, 16_000), 16_000).shape == (8_000,)
    with pytest.raises(MediaError, match="need their sample rate"):
        load_audio(tone(0.5))


def test_silence_is_valid_audio():
    assert torch.count_nonzero(load_audio(np.zeros(16_000, dtype=np.float32), 16_000)) == 0


@pytest.mark.parametrize(
    "samples,reason",
    [
        (np.zeros(0, dtype=np.float32), "empty audio"),
        (np.array([0.1, float("nan"), 0.2], dtype=np.float32), "NaN"),
        (np.array([0.1, float("inf")], dtype=np.float32), "NaN or infinite"),
        (np.zeros((2, 3, 4), dtype=np.float32), "must be"),
    ],
)
def test_bad_samples(samples, reason):
    with pytest.raises(MediaError, match=reason):
        load_audio(samples, 16_000)


def test_bad_files(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "noise.wav").write_bytes(b"RIFF....WAVEfmt garbage" * 10)
    with pytest.raises(MediaError, match="zero-byte"):
        load_audio(tmp_path / "empty.wav")
    with pytest.raises(MediaError, match="cannot decode|can decode"):
        load_audio(tmp_path / "noise.wav")
    with pytest.raises(MediaError, match="sample rate must be"):
        load_audio(tone(0.1), -5)


def test_long_audio_is_cut_with_a_warning():
    with pytest.warns(UserWarning, match="cut to its first 2 s"):
        wave = load_audio(tone(3.0), 16_000, max_seconds=2.0)
    assert wave.shape == (32_000,)


def hour_of_silence_flac(path, rate=48_000):
    """A 0.5 MB FLAC that declares an hour of audio (~700 MB of float32 samples): an audio decompression bomb."""
    import soundfile

    with soundfile.SoundFile(str(path), "w", rate, 1, format="FLAC") as out:
        minute = np.zeros(rate * 60, dtype=np.float32)
        for _ in range(60):
            out.write(minute)
    return path


def test_an_audio_bomb_is_decoded_only_up_to_max_seconds(tmp_path):
    from encoders.audio_loading import decode_audio

    data = hour_of_silence_flac(tmp_path / "hour.flac").read_bytes()
    assert len(data) < 1_000_000
    with pytest.warns(UserWarning, match="audio of 3600 s cut to its first 5 s"):
        samples, rate = decode_audio(data, max_seconds=5)
    assert rate == 48_000 and samples.shape == (5 * 48_000, 1)  # never more than the limit is decoded
    with pytest.warns(UserWarning, match="3600 s cut"):
        assert load_audio(data, max_seconds=5).shape == (5 * 16_000,)


@pytest.mark.parametrize("rate", [8_000, 22_050, 44_100, 48_000])
def test_chunked_resampling_equals_one_pass(rate):
    import torchaudio.functional as AF

    from encoders.audio_loading import resample

    signal = torch.randn(rate * 5 + 123, generator=torch.Generator().manual_seed(rate), dtype=torch.float64)
    one_pass = AF.resample(signal, rate, 16_000)
    chunked = resample(signal, rate, 16_000, chunk_seconds=1.0)  # 6 chunks, the last one ragged
    assert chunked.shape == one_pass.shape
    torch.testing.assert_close(chunked, one_pass, atol=1e-12, rtol=0)  # the same sums, float64 rounding only
