"""`mmembed bench all` end to end on a tiny model: one JSON with every section, one table (figures never asserted)."""

import json

import pytest

from mmembed.cli import main

pytestmark = pytest.mark.integration  # the store section embeds real WordNet glosses with the packaged MiniLM


def test_bench_all_writes_every_section_as_json_and_a_table(make_multimodal_embedder, tmp_path, capsys):
    make_multimodal_embedder().save_pretrained(tmp_path / "model")
    out = tmp_path / "bench-g1.3"  # a name with a dot of its own: OUT.json is bench-g1.3.json, not bench-g1.json
    assert (
        main(
            [
                "bench",
                "all",
                "--model",
                str(tmp_path / "model"),
                "--device",
                "cpu",
                "--texts",
                "6",
                "--images",
                "2",
                "--clips",
                "1",
                "--repeats",
                "1",
                "--batch-size",
                "2",
                "--store-points",
                "300",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    results = json.loads((tmp_path / "bench-g1.3.json").read_text())
    assert {"text", "image", "audio", "store_search", "store_indexing", "memory", "machine"} <= set(results)
    assert results["text"]["encode_vs_raw"] > 0 and results["image"]["encode_vs_ceiling"] > 0
    assert [row["backend"] for row in results["store_search"]] == ["qdrant-edge", "qdrant-client local"]
    assert results["store_search"][0]["recall_at_10"] == 1.0  # 300 points: exact search
    table = (tmp_path / "bench-g1.3.md").read_text()
    assert (
        "| text encode() texts/s vs naive HF loop |" in table
        and "| image encode() images/s vs towers + backbone |" in table
    )
    assert table in capsys.readouterr().out
