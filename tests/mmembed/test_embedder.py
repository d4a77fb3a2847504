"""encode(), generation mode and save/load on a tiny random backbone."""

import json

import numpy as np
import pytest
import torch
from media_files import square, tone
from safetensors.torch import load_file, save_file

import mmembed
from mmembed import Embedder

TEXTS = [
    "A cat sits on the mat.",
    "Stock markets fell sharply today.",
    "A puppy is running on the grass.",
    "Red squares and blue circles.",
    "Listen to the sound of the ocean waves, near the harbour, at night.",
    "Dog.",
    "Translate the sentence into French, please.",
]


@pytest.mark.parametrize("pooling", ["last", "mean", "weighted_mean"])
@pytest.mark.parametrize("attention", ["causal", "bidirectional"])
def test_batched_encode_matches_one_by_one_in_input_order(make_embedder, pooling, attention):
    embedder = make_embedder(pooling=pooling, attention=attention)
    batched = embedder.encode(TEXTS, batch_size=3)
    single = np.stack([embedder.encode(text) for text in TEXTS])
    assert batched.shape == (len(TEXTS), embedder.dimension) == (7, 32)
    np.testing.assert_allclose(batched, single, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)


def test_output_types_and_normalization(make_embedder):
    embedder = make_embedder()
    raw = embedder.encode(TEXTS[:2], normalize=False, convert_to_tensor=True)
    assert isinstance(raw, torch.Tensor) and raw.dtype == torch.float32
    assert not torch.allclose(raw.norm(dim=1), torch.ones(2))
    sims = embedder.similarity(raw.numpy(), raw.numpy())
    np.testing.assert_allclose(np.diag(sims), 1.0, atol=1e-5)


def test_generation_is_unchanged_by_embedding_calls(make_embedder):
    embedder = make_embedder(attention="bidirectional")
    before = embedder.generate("A cat sits", max_new_tokens=12)
    embedder.encode(TEXTS, batch_size=2)
    after = embedder.generate("A cat sits", max_new_tokens=12)
    assert before == after
    assert embedder.generate("A cat sits", max_new_tokens=12, chat=False)  # raw-text prompt works too


def test_generation_never_emits_the_mode_token(make_embedder):
    embedder = make_embedder()
    with torch.no_grad():  # make <|embed|> the most likely next token everywhere
        embedder.causal_lm.get_output_embeddings().weight[embedder.embed_token_id] *= 1000
    ids = embedder.tokenizer(embedder.generate("A cat", max_new_tokens=5, chat=False))["input_ids"]
    assert embedder.embed_token_id not in ids


@pytest.mark.parametrize("attention,pooling", [("bidirectional", "last"), ("causal", "mean")])
def test_save_load_reproduces_vectors_bit_for_bit(make_embedder, tmp_path, attention, pooling):
    embedder = make_embedder(attention=attention, pooling=pooling, instructions={"query": "Find it", "document": ""})
    with torch.no_grad():  # pretend training moved the mode token's row
        embedder.causal_lm.get_input_embeddings().weight[embedder.embed_token_id] += 0.5
    expected = embedder.encode(TEXTS, instruction="query")
    embedder.save_pretrained(tmp_path / "model")
    loaded = mmembed.load(str(tmp_path / "model"), device="cpu")
    assert loaded.config == embedder.config
    np.testing.assert_array_equal(loaded.encode(TEXTS, instruction="query"), expected)


def test_save_load_with_lora_adapter(make_embedder, tmp_path):
    from peft import LoraConfig, get_peft_model

    embedder = make_embedder()
    embedder.model = get_peft_model(
        embedder.model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    )
    expected = embedder.encode(TEXTS)
    embedder.save_pretrained(tmp_path / "model")
    assert (tmp_path / "model" / "adapter" / "adapter_model.safetensors").is_file()
    assert not (tmp_path / "model" / "backbone").exists()  # referenced, not copied
    np.testing.assert_array_equal(Embedder.from_pretrained(tmp_path / "model", device="cpu").encode(TEXTS), expected)


def test_model_without_source_saves_its_backbone(make_embedder, tmp_path):
    embedder = make_embedder()
    embedder.config.backbone = None
    expected = embedder.encode(TEXTS)
    embedder.save_pretrained(tmp_path / "model")
    assert (tmp_path / "model" / "backbone" / "model.safetensors").is_file()
    np.testing.assert_array_equal(Embedder.from_pretrained(tmp_path / "model", device="cpu").encode(TEXTS), expected)


def test_mode_token_row_is_deterministic(make_embedder):
    a, b = make_embedder(), make_embedder()

    def row(e):
        return e.causal_lm.get_input_embeddings().weight[e.embed_token_id]

    torch.testing.assert_close(row(a), row(b), rtol=0, atol=0)


def test_config_overrides_only_for_new_embedders(make_embedder, tmp_path):
    make_embedder().save_pretrained(tmp_path / "m")
    with pytest.raises(ValueError, match="overrides"):
        mmembed.load(str(tmp_path / "m"), pooling="last")


def test_embedding_only_adapter_leaves_generation_untouched(make_embedder):
    from peft import LoraConfig, get_peft_model

    embedder = make_embedder()
    before = embedder.generate("A cat sits", max_new_tokens=10)
    embedder.model = get_peft_model(
        embedder.model, LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    )
    plain = embedder.encode("A cat sits")
    assert embedder.generate("A cat sits", max_new_tokens=10) == before  # adapter off in generation mode
    embedder.config.adapter_in_generation = True
    assert embedder.generate("A cat sits", max_new_tokens=10) != before  # a GRIT-trained adapter serves both
    np.testing.assert_array_equal(embedder.encode("A cat sits"), plain)


def test_a_folder_without_its_tokenizer_takes_the_backbones_own(make_multimodal_embedder, tmp_path):
    """The shipped checkpoints carry no tokenizer/: the backbone's tokenizer plus the special tokens, at the ids their
    rows were saved under, is the same tokenizer, so the vectors are the same."""
    embedder = make_multimodal_embedder()
    with torch.no_grad():  # training moved the mode token's row
        embedder.causal_lm.get_input_embeddings().weight[embedder.embed_token_id] += 0.5
    embedder.save_pretrained(tmp_path / "model")
    inputs = [*TEXTS, square("red"), (tone(1.0), 16_000)]
    expected, vocab = embedder.encode(inputs), embedder.tokenizer.get_vocab()
    assert not (tmp_path / "model" / "tokenizer").exists()  # not written: the backbone's own rebuilds it
    loaded = mmembed.load(str(tmp_path / "model"), device="cpu")
    assert loaded.tokenizer.get_vocab() == vocab and loaded.special_token_ids == embedder.special_token_ids
    np.testing.assert_array_equal(loaded.encode(inputs), expected)


def test_a_tokenizer_the_backbone_cannot_rebuild_is_saved_with_the_model(make_embedder, tmp_path):
    embedder = make_embedder()
    embedder.tokenizer.add_tokens(["<caption>"])  # a token the backbone's own tokenizer lacks
    embedder.causal_lm.resize_token_embeddings(len(embedder.tokenizer), mean_resizing=False)
    embedder.save_pretrained(tmp_path / "model")
    assert (tmp_path / "model" / "tokenizer" / "tokenizer.json").is_file()
    loaded = mmembed.load(str(tmp_path / "model"), device="cpu")
    assert loaded.tokenizer.get_vocab() == embedder.tokenizer.get_vocab()
    np.testing.assert_array_equal(loaded.encode(TEXTS), embedder.encode(TEXTS))


def test_a_folder_whose_tokens_the_backbone_would_number_otherwise_is_refused(make_embedder, tmp_path):
    make_embedder().save_pretrained(tmp_path / "model")
    rows = tmp_path / "model" / "special_token_embeddings.safetensors"
    save_file(load_file(str(rows)), str(rows), metadata={"token_ids": json.dumps([1])})  # another tokenizer's id
    with pytest.raises(ValueError, match="saved as id 1 .* needs its tokenizer/ folder"):
        mmembed.load(str(tmp_path / "model"), device="cpu")
