"""The data layer: every source module registers itself; one suffix table and one caption reader serve all."""

from pathlib import Path

import pytest

from mmembed.data import fetch, source_names
from mmembed.data.media_files import AUDIO_SUFFIXES, KINDS, caption_for
from mmembed.data.sources import SOURCES, register

SOURCE_MODULES = sorted(p.stem for p in (Path(__file__).parents[3] / "mmembed" / "data" / "sources").glob("[a-z]*.py"))


def test_every_source_module_registers_a_builder():
    names = source_names()
    assert {
        "tuxpaint",
        "tuxpaint-multilingual",
        "tuxpaint-translations",
        "emoji",
        "fluent-emoji",
        "wordnet",
        "wordnet-sts",
        "speech",
        "speech-voices",
        "speech-emoji",
        "fashion-mnist",
        "sonic-pi",
        "instruments",
        "reviews",
        "digits",
    } <= set(names)
    modules = {SOURCES[name].__module__.rsplit(".", 1)[1] for name in names}
    assert modules == set(SOURCE_MODULES)  # no module without a source, none registered from elsewhere


def test_a_new_source_is_one_decorated_function(tmp_path):
    @register("test-only-source")
    def build(data_dir: Path) -> Path:
        return data_dir / "made.jsonl"

    try:
        assert fetch("test-only-source", tmp_path) == tmp_path / "made.jsonl"
    finally:
        SOURCES.pop("test-only-source")


def test_an_unknown_source_names_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match="unknown data source 'nope'; known: digits, emoji"):
        fetch("nope", tmp_path)


def test_encode_and_the_folder_walk_share_one_audio_suffix_table():
    from mmembed import inputs, media_walk

    assert inputs.AUDIO_SUFFIXES is AUDIO_SUFFIXES
    assert {s for s, kind in media_walk.KINDS.items() if kind == "audio"} == AUDIO_SUFFIXES
    assert KINDS[".caf"] == "audio" and KINDS[".w64"] == "audio"


def test_a_sidecar_caption_is_its_first_non_blank_line(tmp_path):
    (tmp_path / "frog.png").write_bytes(b"")
    (tmp_path / "frog.txt").write_text("\n  A frog.  \nfr.utf8=Une grenouille.\n")
    (tmp_path / "blue_whale-2.png").write_bytes(b"")
    assert caption_for(tmp_path / "frog.png") == "A frog."
    assert caption_for(tmp_path / "blue_whale-2.png") == "blue whale 2"
