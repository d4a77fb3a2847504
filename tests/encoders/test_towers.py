"""Towers on tiny random configs: shapes, pooling, preprocessing, chunking."""

import numpy as np
import pytest
import torch
from media_files import circle, square

from encoders import AudioTowerConfig, ImageTowerConfig, build_audio_tower, build_image_tower
from encoders.grid_pooling import pool_frames, pool_grid
from encoders.image_towers import EfficientNetLite0Tower


def test_pool_grid_averages_quadrants():
    grid = torch.arange(16, dtype=torch.float32).reshape(1, 16, 1)  # a 4x4 grid, row-major
    pooled = pool_grid(grid, (4, 4), 4)
    assert pooled.flatten().tolist() == [2.5, 4.5, 10.5, 12.5]
    with pytest.raises(ValueError, match="grid"):
        pool_grid(grid, (3, 3), 4)


def test_pool_frames_keeps_time_order():
    frames = torch.arange(8, dtype=torch.float32).reshape(8, 1)
    assert pool_frames(frames, 4).flatten().tolist() == [0.5, 2.5, 4.5, 6.5]
    assert pool_frames(frames[:1], 3).shape == (3, 1)


def test_open_clip_tower_from_a_name_without_download(tiny_open_clip):
    tower = build_image_tower(
        ImageTowerConfig(kind="open_clip", model_name=tiny_open_clip, pretrained=None, num_tokens=4)
    )
    pixels = torch.stack([tower.preprocess(square("red")), tower.preprocess(circle("blue"))])
    assert pixels.shape == (2, 3, 32, 32)  # open_clip's own preprocessing, at the config's image size
    features = tower(pixels)
    assert features.shape == (2, 4, 64) and tower.grid == (4, 4)
    assert not any(p.requires_grad for p in tower.parameters())


def test_efficientnet_tower_shapes():
    tower = EfficientNetLite0Tower(ImageTowerConfig(num_tokens=9), weights=False)
    pixels = tower.preprocess(square("red", size=300)).unsqueeze(0)
    assert pixels.shape == (1, 3, 224, 224) and pixels.min() >= -1 and pixels.max() <= 1
    assert tower(pixels).shape == (1, 9, 1280)
    tower.train()
    assert not tower.training  # frozen: batch norm statistics never move


def test_an_image_summary_follows_the_grid_features_unchanged():
    """With summary blocks, each token's features are the grid features as before, then the image's summary: each
    block's map's mean and standard deviation per channel over the image, the same in every token."""
    torch.manual_seed(0)
    plain = EfficientNetLite0Tower(ImageTowerConfig(num_tokens=4), weights=False)
    summarised = EfficientNetLite0Tower(ImageTowerConfig(num_tokens=4, summary_blocks=(3, 15)), weights=False)
    summarised.net.load_state_dict(plain.net.state_dict())
    assert summarised.summary_dim == 2 * (40 + 320) == summarised.config.summary_dim
    pixels = torch.stack([plain.preprocess(square("red")), plain.preprocess(circle("blue"))])
    grid, wide = plain(pixels), summarised(pixels)
    assert wide.shape == (2, 4, 1280 + 720)
    torch.testing.assert_close(wide[..., :1280], grid, atol=1e-5, rtol=0)  # the same layers, run in the same order
    taps = {}
    hooks = [plain.net._blocks[i].register_forward_hook(lambda m, a, out, i=i: taps.update({i: out})) for i in (3, 15)]
    plain(pixels)
    for hook in hooks:
        hook.remove()
    expected = torch.cat([f(taps[i]) for i in (3, 15) for f in (lambda x: x.mean((2, 3)), lambda x: x.std((2, 3)))], 1)
    for token in range(4):
        torch.testing.assert_close(wide[:, token, 1280:], expected, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(wide[0, 0, 1280:], wide[1, 0, 1280:])  # it tells the images apart


@pytest.mark.parametrize(
    "bad, reason",
    [
        ({"kind": "open_clip", "model_name": "RN50", "summary_blocks": (3,)}, "open_clip tower has none"),
        ({"summary_blocks": (16,)}, "block indices 0-15"),
        ({"summary_blocks": (14, 3)}, "in order"),
        ({"summary_blocks": (3, 3)}, "distinct"),
    ],
)
def test_bad_summary_blocks_are_refused_by_name(bad, reason):
    with pytest.raises(ValueError, match=reason):
        ImageTowerConfig(**bad)


def test_a_saved_list_of_summary_blocks_reads_as_a_tuple_and_stays_out_of_the_repr():
    config = ImageTowerConfig(summary_blocks=[10, 14])
    assert config.summary_blocks == (10, 14) and config.summary_dim == 2 * (112 + 192)
    assert repr(config) == repr(ImageTowerConfig())  # feature caches name it only when set (training/features.py)


@pytest.mark.parametrize("bad", [{"kind": "vgg"}, {"kind": "open_clip"}, {"num_tokens": 5}])
def test_bad_image_tower_configs(bad):
    with pytest.raises(ValueError):
        ImageTowerConfig(**bad)


def test_log_mel_matches_whisper_feature_extractor(tiny_whisper):
    from transformers import WhisperFeatureExtractor

    tower = build_audio_tower(AudioTowerConfig(source=str(tiny_whisper)))
    wave = torch.sin(torch.arange(32_000) / 16_000 * 2 * np.pi * 300) * 0.3
    reference = WhisperFeatureExtractor(feature_size=80)(
        wave.numpy(), sampling_rate=16_000, return_tensors="pt"
    ).input_features[0]
    torch.testing.assert_close(tower.log_mel(wave), reference, atol=1e-4, rtol=1e-4)


def test_audio_tower_pools_only_real_frames_and_chunks_long_audio(tiny_whisper):
    tower = build_audio_tower(AudioTowerConfig(source=str(tiny_whisper), num_tokens=4, chunk_seconds=10))
    short = torch.randn(8_000) * 0.1
    features = tower([short, torch.randn(16_000 * 25) * 0.1])
    assert features.shape == (2, 4, 32)
    # padding beyond the clip does not enter: the same clip followed by silence in the window gives the same frames
    alone = tower([short])[0]
    torch.testing.assert_close(features[0], alone)


@pytest.mark.parametrize("kind", ["efficientnet_lite0", "open_clip"])
def test_batch_preprocessing_on_a_device_matches_the_pil_pipeline(kind, tiny_open_clip):
    """What a GPU runs (resize, crop and normalise on tensors) against the tower's PIL pipeline, on the CPU here:
    mean pixel difference < 0.005, features of the same images at cosine > 0.99."""
    from PIL import Image

    config = (
        ImageTowerConfig() if kind != "open_clip" else ImageTowerConfig(kind="open_clip", model_name=tiny_open_clip)
    )
    tower = build_image_tower(config)
    noise = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    images = [square("red", size=300), circle("blue", size=97), Image.fromarray(noise)]
    reference = torch.stack([tower.preprocess(image) for image in images])
    on_device = tower.preprocess_batch(images, "cpu")
    assert on_device.shape == reference.shape and on_device.dtype == reference.dtype
    assert (on_device - reference).abs().mean() < 0.005
    cosine = torch.nn.functional.cosine_similarity(tower(on_device).flatten(1), tower(reference).flatten(1))
    assert cosine.min() > 0.99
