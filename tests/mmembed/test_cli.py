"""The command line: --help everywhere, embed output, clear errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

from mmembed.cli import build_parser, main


def subcommand_paths(parser, prefix=()):
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                yield prefix + (name,)
                yield from subcommand_paths(sub, prefix + (name,))


def test_help_on_every_subcommand(capsys):
    paths = list(subcommand_paths(build_parser()))
    assert ("embed",) in paths and ("bench", "text") in paths
    for path in [()] + paths:
        with pytest.raises(SystemExit) as done:
            main([*path, "--help"])
        assert done.value.code == 0
        assert "usage: mmembed" in capsys.readouterr().out


def test_console_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "mmembed", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "quickstart" in result.stdout


def test_embed_writes_npy_and_jsonl(tiny_backbone, tmp_path, capsys):
    model = ["--model", str(tiny_backbone), "--device", "cpu"]
    assert main(["embed", "A cat.", "A dog.", *model, "-o", str(tmp_path / "v.npy")]) == 0
    vectors = np.load(tmp_path / "v.npy")
    assert vectors.shape == (2, 32)
    (tmp_path / "in.txt").write_text("A cat.\n\nA dog.\n")
    assert main(["embed", "--file", str(tmp_path / "in.txt"), *model]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [r["text"] for r in rows] == ["A cat.", "A dog."]
    np.testing.assert_allclose(np.array([r["embedding"] for r in rows]), vectors, atol=1e-6)


def test_errors_are_one_clear_line(capsys):
    assert main(["embed", "hi", "--model", "./no/such/model"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_fetch_lists_sources_and_names_the_missing_ones(capsys):
    assert main(["fetch", "--list"]) == 0
    listed = capsys.readouterr().out.split()
    assert {"tuxpaint", "speech", "wordnet"} <= set(listed) and listed == sorted(listed)
    assert main(["fetch"]) == 2
    assert "name at least one data source" in capsys.readouterr().err
    assert main(["fetch", "no-such-source"]) == 2
    assert "unknown data source(s) no-such-source" in capsys.readouterr().err


def test_text_benchmark_runs_and_reports_ratios(make_embedder):
    from mmembed.bench.text_throughput import measure

    result = measure(make_embedder(), n_texts=12, max_words=40, batch_size=4, repeats=1)
    assert result.texts == 12 and result.tokens > 12
    assert min(result.encode_s, result.raw_forward_s, result.naive_loop_s) > 0
    assert "encode / raw forward" in result.report() and json.loads(result.to_json())["encode_vs_naive"] > 0


def test_every_numeric_option_is_checked():
    """No option takes a bare int/float: each numeric type refuses values that make no sense (0 and -1 batch sizes
    once dropped files silently or crashed)."""
    import argparse

    def subparsers(parser):
        yield parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    yield from subparsers(sub)

    numeric = [
        a
        for p in subparsers(build_parser())
        for a in p._actions
        if a.type in (int, float) or getattr(a.type, "__module__", "") == "mmembed.cli.common"
    ]
    assert numeric and not [a.option_strings for a in numeric if a.type in (int, float)]
    for action in numeric:
        for bad in ("-1", "nan", "x"):
            with pytest.raises(argparse.ArgumentTypeError, match="is not"):
                action.type(bad)


@pytest.mark.parametrize("size", ["0", "-1"])
def test_index_refuses_a_batch_size_below_one(size, capsys, tmp_path):
    with pytest.raises(SystemExit) as done:
        main(["index", str(tmp_path), "--batch-size", size])
    assert (
        done.value.code == 2 and f"argument --batch-size: {size} is not a positive integer" in capsys.readouterr().err
    )
