"""Vector-space ids (mmembed/fingerprint.py): what changes them and what does not."""

import torch

from mmembed.fingerprint import space_id, text_space_id


def test_projectors_change_the_space_but_not_its_text_side(make_multimodal_embedder):
    embedder = make_multimodal_embedder()
    space, text = space_id(embedder), text_space_id(embedder)
    assert space != text
    with torch.no_grad():
        next(embedder.modalities.projectors.parameters()).add_(0.1)
    assert space_id(embedder) != space
    assert text_space_id(embedder) == text


def test_a_special_token_row_changes_both(make_multimodal_embedder):
    embedder = make_multimodal_embedder()
    space, text = space_id(embedder), text_space_id(embedder)
    with torch.no_grad():
        embedder.causal_lm.get_input_embeddings().weight[embedder.special_token_ids[0]] += 1.0
    assert space_id(embedder) != space and text_space_id(embedder) != text


def test_the_same_weights_give_the_same_ids(make_multimodal_embedder):
    first, second = make_multimodal_embedder(), make_multimodal_embedder()
    assert space_id(first) == space_id(second) and text_space_id(first) == text_space_id(second)


def test_the_towers_settings_change_the_space_but_not_its_text_side(make_multimodal_embedder):
    """A text never passes a tower: its transcript channel, the channel's weight and the image summary move media
    vectors alone, so what was computed from texts (final query vectors, caption banks) is found again."""
    embedder = make_multimodal_embedder()
    space, text = space_id(embedder), text_space_id(embedder)
    embedder.config.audio_tower = {**embedder.config.audio_tower, "transcript_weight": 0.6}
    assert space_id(embedder) != space and text_space_id(embedder) == text
    embedder.config.image_tower = {**embedder.config.image_tower, "num_tokens": 7}
    assert text_space_id(embedder) == text
