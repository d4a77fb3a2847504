"""The verified weight cache: builds once, detects corruption, rebuilds atomically."""

import pytest

from mmembed.weight_cache import MANIFEST, cached_folder, verify


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


@pytest.mark.parametrize(
    "damage,reason",
    [
        (lambda f: (f / "weights.bin").write_bytes(b"\x01" * 10), "has 10 bytes"),
        (lambda f: (f / "weights.bin").write_bytes(b"\x02" * 1000), "sha256"),
        (lambda f: (f / "config.json").unlink(), "missing"),
        (lambda f: (f / MANIFEST).write_text("{not json"), "manifest is corrupt"),
    ],
)
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


def test_content_identity_ignores_where_the_file_lives(tmp_path):
    from mmembed.weight_cache import content_identity

    (tmp_path / "venv1").mkdir()
    (tmp_path / "venv2").mkdir()
    for venv in ("venv1", "venv2"):
        (tmp_path / venv / "model.bin").write_bytes(b"weights" * 1000)
    assert content_identity(tmp_path / "venv1" / "model.bin") == content_identity(tmp_path / "venv2" / "model.bin")
    (tmp_path / "venv2" / "model.bin").write_bytes(b"Weights" * 1000)  # same size, other content
    assert content_identity(tmp_path / "venv1" / "model.bin") != content_identity(tmp_path / "venv2" / "model.bin")
