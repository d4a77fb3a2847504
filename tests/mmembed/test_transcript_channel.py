"""The audio tower's transcript channel: the packaged Whisper tiny.en transcribes, the same model embeds the words,
and a clip's vector blends its audio and its transcript (integration: the real Whisper, a tiny random LLM)."""

import numpy as np
import pytest
import torch

from encoders import load_audio

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    from mmembed.data.sources.speech import synthesize

    folder = tmp_path_factory.mktemp("speech")
    synthesize("Please call me tomorrow morning.", folder / "call.wav", voice="en-us")
    return folder / "call.wav"


def audio_embedder(make_embedder, weight):
    return make_embedder(
        audio_tower={"source": "packaged:tiny.en", "num_tokens": 4, "transcribe": True, "transcript_weight": weight}
    )


def test_the_vector_blends_audio_and_transcript(make_embedder, spoken):
    both = audio_embedder(make_embedder, 0.5)
    transcript = both.modalities.transcripts([load_audio(spoken)])[0]
    assert "tomorrow morning" in transcript.lower()
    words = both.encode(transcript, instruction="document")
    only_audio = audio_embedder(make_embedder, 0.0).encode(spoken, instruction="document")
    only_words = audio_embedder(make_embedder, 1.0).encode(spoken, instruction="document")
    blended = both.encode(spoken, instruction="document")
    np.testing.assert_allclose(only_words, words, atol=1e-5, rtol=0)  # weight 1: the transcript's text vector
    expected = 0.5 * only_audio + 0.5 * words
    np.testing.assert_allclose(blended, expected / np.linalg.norm(expected), atol=1e-5, rtol=0)


def test_a_clip_without_words_keeps_its_audio_vector(make_embedder):
    silence = (np.zeros(16_000, dtype=np.float32), 16_000)
    with_channel = audio_embedder(make_embedder, 0.5)
    assert with_channel.modalities.transcripts([torch.zeros(16_000)]) == [""]
    np.testing.assert_allclose(
        with_channel.encode(silence), audio_embedder(make_embedder, 0.0).encode(silence), atol=1e-6, rtol=0
    )


def test_the_weight_is_checked():
    from encoders import AudioTowerConfig

    with pytest.raises(ValueError, match="transcript_weight"):
        AudioTowerConfig(transcribe=True, transcript_weight=1.5)


def test_the_tower_shares_the_transcribers_encoder_and_computes_the_same_features(make_embedder, spoken):
    shared = audio_embedder(make_embedder, 0.5).modalities
    tower = shared.tower("audio")
    assert tower.encoder is shared.transcriber().model.get_encoder()  # one Whisper in memory
    separate = make_embedder(audio_tower={"source": "packaged:tiny.en", "num_tokens": 4}).modalities
    assert separate.tower("audio").encoder is not tower.encoder
    wave = load_audio(spoken)
    torch.testing.assert_close(shared.audio_features([wave]), separate.audio_features([wave]), atol=1e-5, rtol=0)


def test_a_clip_is_encoded_once_and_its_transcript_read_off_the_towers_states(make_embedder, tmp_path):
    from mmembed.data.sources.speech import synthesize

    synthesize("The orange kite flew over seven quiet hills.", tmp_path / "kite.wav", voice="en-us")  # unheard here
    both = audio_embedder(make_embedder, 0.5)
    encoder = both.modalities.tower("audio").encoder
    calls = []
    encoder.register_forward_hook(lambda module, args, out: calls.append(args[0].shape[0]))
    vector = both.encode(tmp_path / "kite.wav", instruction="document")
    assert calls == [1]  # the tower's pass only: the decoder read the same states
    assert "kite" in both.modalities.transcripts([load_audio(tmp_path / "kite.wav")])[0].lower()
    assert calls == [1]  # remembered, not decoded again
    only_audio = audio_embedder(make_embedder, 0.0).encode(tmp_path / "kite.wav", instruction="document")
    assert float(vector @ only_audio.T) < 0.999  # the transcript's words are in the vector
