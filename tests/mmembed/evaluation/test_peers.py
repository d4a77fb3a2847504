"""The peers run on the real packaged towers and MiniLM (integration)."""

import numpy as np
import pytest
from media_files import square

from mmembed.evaluation.peers import MiniLMPeer

pytestmark = pytest.mark.integration


def test_minilm_is_text_only():
    vectors = MiniLMPeer().encode(["a cat", "a dog"])
    assert vectors.shape == (2, 384)
    with pytest.raises(ValueError, match="text only"):
        MiniLMPeer().encode(["a cat", square("red")])


def test_mpnet_is_joined_from_its_five_parts_and_ranks_a_paraphrase_first():
    from mmembed.evaluation.peers import MPNetPeer

    vectors = MPNetPeer().encode(
        ["A man is playing a guitar.", "Someone plays an acoustic guitar.", "The stock market fell."]
    )
    assert vectors.shape == (3, 768) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


def test_whisper_decoder_converted_from_ctranslate2_transcribes_synthesised_speech(tmp_path):
    from encoders import load_audio
    from mmembed.data.sources.speech import synthesize
    from mmembed.packaged_whisper import whisper_transcriber

    synthesize("The quick brown fox jumps over the lazy dog.", tmp_path / "fox.wav", voice="en-gb")
    synthesize("Please call me tomorrow morning.", tmp_path / "call.wav", voice="en-us+f3")
    fox, call = whisper_transcriber().transcribe([load_audio(tmp_path / "fox.wav"), load_audio(tmp_path / "call.wav")])
    assert {"quick", "brown", "fox", "lazy", "dog"} <= set(fox.lower().replace(".", "").split())
    assert call == "Please call me tomorrow morning."  # batched with a longer clip: padding must not leak


def test_asr_cascade_matches_speech_to_its_sentence(tmp_path):
    from pathlib import Path

    from mmembed.data.sources.speech import synthesize
    from mmembed.evaluation.peers import ASRCascadePeer

    sentences = ["A green frog.", "A yellow school bus.", "A birthday cake with candles."]
    for i, sentence in enumerate(sentences):
        synthesize(sentence, tmp_path / f"{i}.wav", voice="en-gb")
    peer = ASRCascadePeer()
    speech = peer.encode([Path(tmp_path / f"{i}.wav") for i in range(3)] + [square("red")])
    assert np.isnan(speech[3]).all() and sorted(peer.transcripts) == [0, 1, 2]
    texts = peer.encode(sentences)
    assert (np.argmax(speech[:3] @ texts.T, axis=1) == np.arange(3)).all()
