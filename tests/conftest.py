import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from tiny_models import make_backbone_folder  # noqa: E402


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory) -> Path:
    return make_backbone_folder(tmp_path_factory.mktemp("tiny-llama"), "llama")


@pytest.fixture(scope="session")
def tiny_qwen_backbone(tmp_path_factory) -> Path:
    return make_backbone_folder(tmp_path_factory.mktemp("tiny-qwen2"), "qwen2", seed=1)


@pytest.fixture
def make_embedder(tiny_backbone):
    from mmembed import Embedder

    def build(**overrides):
        overrides.setdefault("max_length", 64)
        return Embedder.build(str(tiny_backbone), device="cpu", **overrides)

    return build
