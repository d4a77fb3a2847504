import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from tiny_models import make_backbone_folder, make_whisper_encoder_folder, register_tiny_open_clip  # noqa: E402


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory) -> Path:
    return make_backbone_folder(tmp_path_factory.mktemp("tiny-llama"), "llama")


@pytest.fixture(scope="session")
def tiny_qwen_backbone(tmp_path_factory) -> Path:
    return make_backbone_folder(tmp_path_factory.mktemp("tiny-qwen2"), "qwen2", seed=1)


@pytest.fixture(scope="session")
def tiny_gemma3_backbone(tmp_path_factory) -> Path:
    return make_backbone_folder(tmp_path_factory.mktemp("tiny-gemma3"), "gemma3_text", seed=2)


@pytest.fixture
def make_embedder(tiny_backbone):
    from mmembed import Embedder

    def build(**overrides):
        overrides.setdefault("max_length", 64)
        return Embedder.build(str(tiny_backbone), device="cpu", **overrides)

    return build


@pytest.fixture(scope="session")
def tiny_open_clip() -> str:
    return register_tiny_open_clip()


@pytest.fixture(scope="session")
def tiny_whisper(tmp_path_factory) -> Path:
    return make_whisper_encoder_folder(tmp_path_factory.mktemp("tiny-whisper"))


@pytest.fixture
def make_multimodal_embedder(tiny_backbone, tiny_open_clip, tiny_whisper):
    from mmembed import Embedder

    def build(**overrides):
        overrides.setdefault("max_length", 64)
        overrides.setdefault("image_tower", {"kind": "open_clip", "model_name": tiny_open_clip, "num_tokens": 4})
        overrides.setdefault("audio_tower", {"source": str(tiny_whisper), "num_tokens": 4})
        return Embedder.build(str(tiny_backbone), device="cpu", **overrides)

    return build
