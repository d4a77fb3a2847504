"""The embedder's public surface for training: typed items, gradients, masking, adapters, the center."""

import pytest
import torch

from mmembed.training_items import FeatureItem


def test_embed_items_matches_encode_and_keeps_gradients(make_embedder):
    embedder = make_embedder()
    texts = ["A cat sits on the mat.", "Stock markets fell."]
    vectors = embedder.embed_items([FeatureItem(texts[0]), texts[1]], "document")
    assert vectors.requires_grad
    encoded = embedder.encode(texts, instruction="document", normalize=False, convert_to_tensor=True)
    torch.testing.assert_close(vectors.detach().cpu(), encoded, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(embedder.embed_texts(texts, "document").detach().cpu(), encoded, atol=1e-5, rtol=1e-5)


def test_feature_items_must_be_whole():
    with pytest.raises(ValueError, match="both a media kind and its features"):
        FeatureItem(kind="image")
    with pytest.raises(ValueError, match="holds text, media features or both"):
        FeatureItem()


def test_mask_tokens_replaces_only_the_chosen_content_tokens(make_embedder):
    embedder = make_embedder()
    tokens = embedder.tokenize(["red green blue", "one"], None)
    content = embedder.content_mask(tokens)
    assert not content[torch.arange(2), tokens.last_index].any()  # <|embed|> is never content
    chosen = content & (torch.cumsum(content, 1) == 1)  # the first content token of each row
    masked = embedder.mask_tokens(tokens, chosen)
    assert (masked.input_ids[chosen] == embedder.pad_id).all()
    assert torch.equal(masked.input_ids[~chosen], tokens.input_ids[~chosen])
    assert masked.attention_mask is tokens.attention_mask and torch.equal(masked.last_index, tokens.last_index)
    with pytest.raises(ValueError, match="input ids of shape"):
        tokens.with_input_ids(tokens.input_ids[:, :1])


def test_prepare_for_training_attaches_lora_or_freezes(make_embedder):
    embedder = make_embedder()
    params = embedder.prepare_for_training({"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj"]})
    assert params and all("lora_" in n for n, p in embedder.model.named_parameters() if p.requires_grad)
    assert set(embedder.trainable_modules()) == {"model", "projectors"}
    frozen = make_embedder()
    assert frozen.prepare_for_training(None) == []
    locked = make_embedder()  # train_backbone=False: nothing of the backbone trains, no new adapter is attached
    assert locked.prepare_for_training({"r": 4, "alpha": 8, "target_modules": ["q_proj"]}, train_backbone=False) == []
    assert not hasattr(locked.model, "peft_config")


def test_a_model_that_trains_drops_the_calibration_it_came_with(make_embedder, tmp_path):
    from mmembed.calibration import Calibration

    embedder = make_embedder()
    embedder.calibration = Calibration(threshold=0.4)
    embedder.prepare_for_training(None)
    assert embedder.calibration is None
    assert not (embedder.save_pretrained(tmp_path / "trained") / "calibration.json").exists()


def test_fit_center_is_the_mean_of_both_sides(make_embedder):
    embedder = make_embedder()
    documents, queries = ["A cat.", "A dog.", "The sea."], ["cat?", "dog?", "sea?"]
    center = embedder.fit_center([FeatureItem(d) for d in documents], queries, batch_size=2)
    embedder.center = None
    with torch.no_grad():
        expected = torch.cat([embedder.embed_texts(documents), embedder.embed_texts(queries, "query")]).mean(0)
    torch.testing.assert_close(center, expected, atol=1e-5, rtol=1e-5)


def test_overrides_change_the_settings_inside_the_block_only(make_multimodal_embedder):
    from media_files import square

    embedder = make_multimodal_embedder()
    before = embedder.encode(["A cat sits on the mat."])
    with embedder.overrides(attention="bidirectional", num_tokens={"image": 1}):
        inside = embedder.encode(["A cat sits on the mat."])
        assert embedder.modalities.num_tokens("image") == 1
        assert embedder.token_counts([None], media_kinds=["image"]) == [1 + 1]  # one soft token + <|embed|>
        embedder.encode([square("red")])
    assert embedder.config.attention == "causal" and embedder.modalities.num_tokens("image") != 1
    assert not torch.allclose(torch.as_tensor(before), torch.as_tensor(inside))
    torch.testing.assert_close(torch.as_tensor(embedder.encode(["A cat sits on the mat."])), torch.as_tensor(before))
    with pytest.raises(ValueError, match="attention must be"):
        with embedder.overrides(attention="sideways"):
            pass
