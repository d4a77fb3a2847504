"""Tower features remembered within a scope: shared by towers with the same weights and config, never by others, and
nothing kept outside the scope (tiny random towers; the encoder's calls are counted by a forward hook)."""

import torch
from media_files import circle, square

from encoders import AudioTowerConfig, ImageTowerConfig, build_audio_tower, build_image_tower
from encoders.feature_memo import features_of, remembered_features, remembering


def counted_audio_tower(folder, num_tokens: int = 4):
    """A Whisper tower on the tiny folder, and a list that grows by the chunks its encoder sees per call."""
    tower = build_audio_tower(AudioTowerConfig(source=str(folder), num_tokens=num_tokens))
    seen = []
    tower.encoder.register_forward_hook(lambda module, args, out: seen.append(args[0].shape[0]))
    return tower, seen


def clips(count: int = 3) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return [torch.randn(8_000 + 1_600 * i, generator=generator) for i in range(count)]


def features(tower, items):
    return features_of(tower, items, tower)


def test_towers_with_the_same_weights_compute_each_item_once_within_a_scope(tiny_whisper):
    first, first_seen = counted_audio_tower(tiny_whisper)
    second, second_seen = counted_audio_tower(tiny_whisper)
    waves = clips()
    with remembered_features():
        assert remembering()
        early = features(first, waves[:2])
        both = features(second, waves)  # the first two are remembered: only the third clip runs
    assert not remembering()
    assert first_seen == [2] and second_seen == [1]
    direct = second(waves)
    torch.testing.assert_close(both, direct, atol=1e-5, rtol=0)  # batch shapes differ: last bits may
    torch.testing.assert_close(both[:2], early, atol=0, rtol=0)  # read back, the very same numbers


def test_nothing_is_remembered_outside_a_scope(tiny_whisper):
    tower, seen = counted_audio_tower(tiny_whisper)
    waves = clips(2)
    features(tower, waves)
    features(tower, waves)
    with remembered_features():
        features(tower, waves)
    with remembered_features():  # a new scope starts empty
        features(tower, waves)
    assert seen == [2, 2, 2, 2]


def test_different_weights_or_token_counts_never_share(tiny_whisper):
    waves = clips(2)
    first, first_seen = counted_audio_tower(tiny_whisper)
    changed, changed_seen = counted_audio_tower(tiny_whisper)
    with torch.no_grad():
        next(changed.encoder.parameters()).add_(0.5)
    fewer_tokens, fewer_seen = counted_audio_tower(tiny_whisper, num_tokens=2)
    with remembered_features():
        original = features(first, waves)
        other = features(changed, waves)
        pooled = features(fewer_tokens, waves)
    assert first_seen == changed_seen == fewer_seen == [2]
    assert not torch.allclose(original, other) and pooled.shape[1] == 2


def test_image_towers_share_only_with_equal_weights_and_only_the_same_pixels(tiny_open_clip):
    config = ImageTowerConfig(kind="open_clip", model_name=tiny_open_clip, num_tokens=4)
    first, twin, stranger = (build_image_tower(config) for _ in range(3))  # random weights: all three differ
    twin.load_state_dict(first.state_dict())
    runs = []

    def compute(tower):
        def run(images):
            runs.append(len(images))
            return tower(torch.stack([tower.preprocess(image) for image in images]))

        return run

    red, blue, shifted = square("red"), circle("blue"), square("red", offset=6)
    with remembered_features():
        original = features_of(first, [red, blue], compute(first))
        shared = features_of(twin, [red, blue, shifted], compute(twin))
        features_of(stranger, [red], compute(stranger))
    assert runs == [2, 1, 1]  # the twin ran only the new image; the stranger computed its own
    torch.testing.assert_close(shared[:2], original, atol=0, rtol=0)


def test_the_oldest_items_are_dropped_past_the_limit(tiny_whisper):
    tower, seen = counted_audio_tower(tiny_whisper)
    waves = clips(3)
    with remembered_features(max_items=2):
        features(tower, waves)  # three remembered, the first dropped
        features(tower, waves[1:])
        features(tower, waves[:1])
    assert seen == [3, 1]
