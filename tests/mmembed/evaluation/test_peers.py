"""The peers run on the real packaged towers and MiniLM (integration)."""

import numpy as np
import pytest
from media_files import circle, square, write_audio

from mmembed.data.manifest import read_manifest, write_manifest
from mmembed.evaluation.peers import LiTPeer, MiniLMPeer

pytestmark = pytest.mark.integration


def test_minilm_is_text_only():
    vectors = MiniLMPeer().encode(["a cat", "a dog"])
    assert vectors.shape == (2, 384)
    with pytest.raises(ValueError, match="text only"):
        MiniLMPeer().encode(["a cat", square("red")])


def test_lit_heads_learn_the_training_pairs(tmp_path):
    rows = []
    for i, (shape, colour) in enumerate([(square, "red"), (circle, "blue"), (square, "green"), (circle, "yellow")]):
        shape(colour, size=224).save(tmp_path / f"{i}.png")
        rows.append({"image": f"{i}.png", "text": f"a {colour} {shape.__name__}", "split": "train"})
    write_audio(tmp_path / "beep.wav", seconds=1.0, hz=880)
    rows.append({"audio": "beep.wav", "text": "a high beep", "split": "train"})
    rows = read_manifest(write_manifest(tmp_path / "m.jsonl", rows))
    peer = LiTPeer(steps=150).fit(rows)
    from pathlib import Path

    items = peer.encode([Path(r.get("image") or r.get("audio")) for r in rows])
    texts = peer.encode([r["text"] for r in rows])
    assert items.shape == texts.shape == (5, 256) and np.isfinite(items).all()
    assert (np.argmax(items[:4] @ texts[:4].T, axis=1) == np.arange(4)).all()  # the heads fit their training pairs


def test_lit_heads_are_kept_and_read_back_for_the_same_training_pairs(tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    rows = []
    for i, colour in enumerate(["red", "blue"]):
        square(colour, size=224).save(tmp_path / f"{i}.png")
        rows.append({"image": f"{i}.png", "text": f"a {colour} square", "split": "train"})
    rows = read_manifest(write_manifest(tmp_path / "m.jsonl", rows))
    cache = tmp_path / "cache"
    fitted = LiTPeer(steps=5).fit(rows, cache_dir=cache)
    [kept] = cache.glob("lit-heads-*.safetensors")
    state = load_file(str(kept))
    assert set(state) == {"image.weight", "image.bias", "text.weight", "text.bias"}
    torch.testing.assert_close(state["text.weight"], fitted.heads["text"].weight.detach(), atol=0, rtol=0)
    save_file({key: torch.full_like(value, 0.5) for key, value in state.items()}, str(kept))  # mark the kept file
    again = LiTPeer(steps=5).fit(rows, cache_dir=cache)
    assert torch.equal(again.heads["image"].weight.detach(), torch.full_like(state["image.weight"], 0.5))  # read
    rows[1]["text"] = "a navy square"  # another training pair: another fit, another file
    LiTPeer(steps=5).fit(rows, cache_dir=cache)
    assert len(list(cache.glob("lit-heads-*.safetensors"))) == 2


def test_lit_features_in_batches_equal_one_at_a_time(tmp_path):
    from pathlib import Path

    items = []
    for i, colour in enumerate(["red", "blue", "green"]):
        square(colour, size=200 + 20 * i).save(tmp_path / f"{i}.png")
        items.append(Path(tmp_path / f"{i}.png"))
    for i, seconds in enumerate([0.5, 1.5]):
        items.append(write_audio(tmp_path / f"{i}.wav", seconds=seconds, hz=440 * (i + 1)))
    items.append(tmp_path / "missing.png")
    peer = LiTPeer(steps=0)
    batched, kinds = peer.media_features(items, batch_size=8, progress=False)
    single = [peer.media_features([item], batch_size=1, progress=False)[0][0] for item in items]
    assert kinds == ["image"] * 3 + ["audio"] * 2 + ["?"] and batched[-1] is None and single[-1] is None
    for a, b in zip(batched[:-1], single[:-1]):
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=0)  # batch shapes change kernels: a tolerance


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


def test_lit_reads_back_the_tower_features_a_model_computed_in_the_same_evaluation(tmp_path, make_embedder):
    from encoders.feature_memo import remembered_features

    model = make_embedder(  # a tiny LLM on LiT's own towers (the packaged EfficientNet-Lite0 and Whisper tiny.en)
        image_tower={"kind": "efficientnet_lite0", "num_tokens": 4},
        audio_tower={"source": "packaged:tiny.en", "num_tokens": 8},
    )
    square("red", size=200).save(tmp_path / "red.png")
    items = [tmp_path / "red.png", write_audio(tmp_path / "tone.wav", seconds=1.0)]
    peer = LiTPeer(steps=0)
    alone, _ = peer.media_features(items, progress=False)
    runs = []
    for tower in peer.towers.values():
        tower.register_forward_hook(lambda module, args, out: runs.append(module.__class__.__name__))
    with remembered_features():
        model.encode(items)
        shared, kinds = peer.media_features(items, progress=False)
    assert runs == [] and kinds == ["image", "audio"]  # neither of LiT's towers ran: the model's features were read
    for a, b in zip(shared, alone):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)
