"""Fitting the transcript channel's weight: the sweep on vectors whose answer is known, and (integration: the real
Whisper tiny.en, a tiny random LLM) the views it sweeps equal what ``encode`` computes at each weight."""

import json

import numpy as np
import pytest

from mmembed.evaluation.transcript_weight import AudioViews, blend, sweep


def unit(rows):
    rows = np.asarray(rows, dtype=np.float64)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def known_views(rng, audio_good: bool, words_good: bool):
    """Two sources of 6 clips each over 6 captions: speech (every clip transcribed) and instruments (none). The
    audio vectors are the captions' (plus a little noise) when ``audio_good``, else random; same for the words."""
    captions = [f"caption {i}" for i in range(6)]
    queries = dict(zip(captions, unit(rng.normal(size=(6, 16)))))
    exact = np.stack([queries[c] for c in captions])

    def view(good):
        return unit(exact + 0.05 * rng.normal(size=exact.shape)) if good else unit(rng.normal(size=exact.shape))

    audio = np.concatenate([view(audio_good), exact])  # instruments: audio perfect, no words
    words = np.concatenate([view(words_good), np.full_like(exact, np.nan)])
    views = AudioViews(
        sources=["speech"] * 6 + ["instruments"] * 6,
        captions=captions * 2,
        audio=audio,
        words=words,
        transcripts=["words"] * 6 + [""] * 6,
    )
    return views, queries


def test_good_transcripts_and_bad_audio_pick_the_transcript():
    views, queries = known_views(np.random.default_rng(0), audio_good=False, words_good=True)
    fit = sweep(views, queries)
    assert fit.weight >= 0.6
    assert fit.scores[1.0]["speech"] == pytest.approx(1.0) and fit.scores[0.0]["speech"] < 0.8
    assert fit.scores[0.0]["instruments"] == fit.scores[1.0]["instruments"] == pytest.approx(1.0)  # no words
    assert fit.spoken == {"speech": 1.0, "instruments": 0.0}


def test_bad_transcripts_and_good_audio_keep_the_audio():
    views, queries = known_views(np.random.default_rng(1), audio_good=True, words_good=False)
    fit = sweep(views, queries)
    assert fit.weight <= 0.3
    assert fit.mean(0.0) > fit.mean(1.0)


def test_blend_keeps_clips_without_words_and_returns_unit_vectors():
    rng = np.random.default_rng(2)
    audio, words = unit(rng.normal(size=(3, 8))), unit(rng.normal(size=(3, 8)))
    words[1] = np.nan
    mixed = blend(audio, words, 0.3)
    np.testing.assert_allclose(np.linalg.norm(mixed, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(mixed[1], audio[1], atol=1e-12, rtol=0)  # re-normalised: last bits may differ
    expected = 0.7 * audio[0] + 0.3 * words[0]
    np.testing.assert_allclose(mixed[0], expected / np.linalg.norm(expected), atol=1e-12)


def test_the_transcribe_override_needs_an_audio_tower_and_is_restored(make_embedder, tiny_whisper):
    with pytest.raises(ValueError, match="no audio tower"):
        with make_embedder().overrides(transcribe=False):
            pass
    embedder = make_embedder(audio_tower={"source": str(tiny_whisper), "num_tokens": 2})
    with pytest.raises(RuntimeError, match="inside"):
        with embedder.overrides(transcribe=True):
            assert embedder.modalities.tower_configs["audio"].transcribe is True
            raise RuntimeError("inside")
    assert embedder.modalities.tower_configs["audio"].transcribe is False


@pytest.mark.integration
def test_the_views_equal_encode_at_each_weight_and_the_command_writes_the_fit(make_embedder, tmp_path):
    from mmembed.cli import main
    from mmembed.data.manifest import write_manifest
    from mmembed.data.sources.speech import synthesize
    from mmembed.evaluation.transcript_weight import audio_views

    sentences = ["Please call me tomorrow morning.", "The red boat is on the lake."]
    rows = []
    for i, sentence in enumerate(sentences):
        synthesize(sentence, tmp_path / f"{i}.wav", voice="en-us")
        rows.append({"audio": str(tmp_path / f"{i}.wav"), "text": sentence, "split": "train", "source": "speech"})
    rows.append({"audio": str(tmp_path / "broken.wav"), "text": "nothing", "split": "train", "source": "speech"})
    (tmp_path / "broken.wav").write_bytes(b"not a wave")

    def embedder(weight):
        return make_embedder(
            audio_tower={"source": "packaged:tiny.en", "num_tokens": 4, "transcribe": True, "transcript_weight": weight}
        )

    views = audio_views(embedder(0.5), rows)
    assert "tomorrow morning" in views.transcripts[0].lower() and len(views.captions) == 2
    assert list(views.skipped) == [str(tmp_path / "broken.wav")]
    paths = [tmp_path / "0.wav", tmp_path / "1.wav"]
    for weight in (0.0, 0.5, 1.0):
        encoded = embedder(weight).encode(paths, instruction="document")
        np.testing.assert_allclose(blend(views.audio, views.words, weight), encoded, atol=1e-5, rtol=0)

    model = tmp_path / "model"
    embedder(0.5).save_pretrained(model)
    manifest = write_manifest(tmp_path / "speech.jsonl", rows)
    assert main(["transcript-weight", "--model", str(model), "--data", str(manifest), "--out", str(model)]) == 0
    written = json.loads((model / "mmembed_config.json").read_text())["audio_tower"]
    assert written["transcript_weight"] in {round(w, 1) for w in np.linspace(0, 1, 11)}
    assert written["transcribe"] == (written["transcript_weight"] > 0)
