"""The real packaged towers (EfficientNet-Lite0, Whisper tiny.en) on the real SmolLM2, untrained projectors:
what must already hold is that the towers carry the content through the whole embedder."""

import shutil
import subprocess

import numpy as np
import pytest
import soundfile
import torch
import torchaudio.functional as AF
from media_files import circle, square, tone

import mmembed

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def embedder():
    return mmembed.load(
        "smollm2-135m-instruct",
        device="cpu",
        image_tower={"kind": "efficientnet_lite0", "num_tokens": 4},
        audio_tower={"source": "packaged:tiny.en", "num_tokens": 8},
    )


def test_red_squares_are_closer_to_each_other_than_to_blue_circles(embedder):
    images = [square("red", 224), square("red", 224, offset=20), circle("blue", 224), circle("blue", 200)]
    sims = embedder.similarity(*[embedder.encode(images)] * 2)
    assert sims[0, 1] > max(sims[0, 2], sims[0, 3], sims[1, 2], sims[1, 3])
    assert sims[2, 3] > max(sims[0, 2], sims[1, 2], sims[0, 3], sims[1, 3])


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is needed for the speech test: scripts/setup.sh installs it (apt-get install espeak-ng)"
    folder = tmp_path_factory.mktemp("speech")
    subprocess.run([espeak, "-w", str(folder / "fox.wav"), "The quick brown fox jumps over the lazy dog."], check=True)
    return folder / "fox.wav"


def test_a_spoken_sentence_survives_any_rate_and_channel_layout(embedder, spoken, tmp_path):
    samples, rate = soundfile.read(str(spoken), dtype="float32")
    at_48k = AF.resample(torch.from_numpy(samples), rate, 48_000).numpy()
    soundfile.write(str(tmp_path / "fox48k.flac"), np.stack([at_48k, at_48k], axis=1), 48_000)
    vectors = embedder.encode([spoken, tmp_path / "fox48k.flac", (tone(3.0), 16_000)])
    sims = embedder.similarity(vectors, vectors)
    assert sims[0, 1] > 0.99  # the same speech, 22 kHz mono vs 48 kHz stereo FLAC
    assert sims[0, 1] > sims[0, 2] + 0.02  # and clearly not a pure tone
    assert np.isfinite(vectors).all() and vectors.shape == (3, 576)
