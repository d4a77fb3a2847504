"""Fitting the transcript channel's weight: the sweep on vectors whose answer is known, and (integration: the real
Whisper tiny.en, a tiny random LLM) the views it sweeps equal what ``encode`` computes at each weight, for a model
with a view at each pair of weight and view audio share too."""

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
    assert fit.scores[(1.0, None)]["speech"] == pytest.approx(1.0) and fit.scores[(0.0, None)]["speech"] < 0.8
    no_words = [fit.scores[(w, None)]["instruments"] for w in (0.0, 1.0)]
    assert no_words[0] == no_words[1] == pytest.approx(1.0)
    assert fit.spoken == {"speech": 1.0, "instruments": 0.0}


def test_bad_transcripts_and_good_audio_keep_the_audio():
    views, queries = known_views(np.random.default_rng(1), audio_good=True, words_good=False)
    fit = sweep(views, queries)
    assert fit.weight <= 0.3
    assert fit.mean(0.0) > fit.mean(1.0)


def test_a_view_sweeps_the_weight_and_its_audio_share_together():
    """Speech clips whose primary head hears noise but reads the transcripts right, and whose view hears them right
    but reads noise: transcripts alone (weight 1, share 0) and the view's audio alone (weight 0, share 1) each find
    every clip, the primary's audio alone does not, and the best pair is the smallest weight (then share) at the top."""
    rng = np.random.default_rng(3)
    captions = [f"caption {i}" for i in range(6)]
    queries = unit(rng.normal(size=(6, 16)))

    def near():
        return unit(queries + 0.05 * rng.normal(size=queries.shape))

    def noise():
        return unit(rng.normal(size=queries.shape))

    views = AudioViews(
        sources=["speech"] * 6,
        captions=captions,
        audio=np.concatenate([noise(), near()], axis=1),
        words=np.concatenate([near(), noise()], axis=1),
        transcripts=["words"] * 6,
        view_split=16,
    )
    # the queries as a view model writes a text: each head's unit vector at an even text share
    joined_queries = {c: np.concatenate([q, q]) / np.sqrt(2) for c, q in zip(captions, queries)}
    grid = (0.0, 0.5, 1.0)
    fit = sweep(views, joined_queries, weights=grid, shares=grid)
    assert set(fit.scores) == {(w, s) for w in grid for s in grid}
    assert fit.scores[(0.0, 1.0)]["speech"] == pytest.approx(1.0)  # the view's audio alone
    assert fit.scores[(1.0, 0.0)]["speech"] == pytest.approx(1.0)  # the primary's transcripts alone
    assert fit.scores[(0.0, 0.0)]["speech"] < 0.8  # the primary's audio alone: noise
    top = max(fit.mean(w, s) for w, s in fit.scores)
    assert fit.mean(fit.weight, fit.share) == top
    assert (fit.weight, fit.share) == min(pair for pair in fit.scores if fit.mean(*pair) == top)


def test_a_view_blend_joins_each_head_at_the_share():
    rng = np.random.default_rng(4)
    audio, words = unit(rng.normal(size=(2, 8))), unit(rng.normal(size=(2, 8)))
    halves = [(audio[:, :3], words[:, :3]), (audio[:, 3:], words[:, 3:])]
    heads = [(unit(a), unit(w)) for a, w in halves]
    halved = (np.concatenate([h[0] for h in heads], axis=1), np.concatenate([h[1] for h in heads], axis=1))
    got = blend(*halved, 0.3, view_split=3, share=0.2)
    expected = np.concatenate([np.sqrt(0.8) * blend(*heads[0], 0.3), np.sqrt(0.2) * blend(*heads[1], 0.3)], axis=1)
    np.testing.assert_allclose(got, expected, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-12)
    with pytest.raises(ValueError, match="share"):
        blend(*halved, 0.3, view_split=3)


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


@pytest.mark.integration
def test_a_view_models_views_equal_encode_at_each_pair_and_the_command_writes_both(make_embedder, tmp_path, capsys):
    import torch

    import mmembed
    from mmembed.cli import main
    from mmembed.data.manifest import write_manifest
    from mmembed.data.sources.speech import synthesize
    from mmembed.evaluation.transcript_weight import audio_views
    from mmembed.view import add_view

    sentences = ["Please call me tomorrow morning.", "The red boat is on the lake.", "Seven green apples."]
    rows = []
    for i, sentence in enumerate(sentences):
        synthesize(sentence, tmp_path / f"{i}.wav", voice="en-us")
        rows.append({"audio": str(tmp_path / f"{i}.wav"), "text": sentence, "split": "train", "source": "speech"})
    torch.manual_seed(0)
    audio_tower = {"source": "packaged:tiny.en", "num_tokens": 4, "transcribe": True, "transcript_weight": 0.5}
    make_embedder(audio_tower=audio_tower).save_pretrained(tmp_path / "first")
    second = mmembed.load(str(tmp_path / "first"), device="cpu")
    second.head = torch.eye(second.hidden_size) + 0.3 * torch.randn(second.hidden_size, second.hidden_size)

    def model(weight, share):
        first = mmembed.load(str(tmp_path / "first"), device="cpu")
        first.modalities.tower_configs["audio"].transcript_weight = weight
        return add_view(first, second, 0.4, {"audio": share})

    views = audio_views(model(0.5, 0.1), rows)
    assert views.view_split == second.hidden_size
    np.testing.assert_allclose(np.linalg.norm(views.audio[:, : views.view_split], axis=1), 1.0, atol=1e-5)
    paths = [tmp_path / f"{i}.wav" for i in range(3)]
    for weight, share in ((0.0, 0.0), (0.5, 0.1), (1.0, 0.7)):
        encoded = model(weight, share).encode(paths, instruction="document")
        got = blend(views.audio, views.words, weight, views.view_split, share)
        np.testing.assert_allclose(got, encoded, atol=1e-5, rtol=0)

    saved = tmp_path / "with-view"
    model(0.5, 0.1).save_pretrained(saved)
    manifest = write_manifest(tmp_path / "speech.jsonl", rows)
    assert main(["transcript-weight", "--model", str(saved), "--data", str(manifest), "--out", str(saved)]) == 0
    printed = capsys.readouterr().out
    assert "view audio share" in printed and "(best)" in printed
    reloaded = mmembed.load(str(saved), device="cpu")
    written = reloaded.modalities.tower_configs["audio"].transcript_weight
    share = reloaded.view.config.media_shares["audio"]
    assert f"best {written:.1f}, the view's audio share {share:.1f}" in printed
    assert reloaded.view.config.text_share == 0.4  # the text side untouched
