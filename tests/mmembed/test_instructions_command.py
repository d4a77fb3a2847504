"""``mmembed instructions``: lists a model's named instructions and changes them in its folder (or a copy), the way
a recipe chain sets v8's ``sts`` to the query text; bad requests are refused by name."""

import json

import numpy as np
import pytest

import mmembed
from mmembed.cli import main

TEXTS = ["a red square", "A kitten is sitting on a rug."]


@pytest.fixture
def model_folder(make_embedder, tmp_path):
    make_embedder().save_pretrained(tmp_path / "model")
    (tmp_path / "model" / "calibration.json").write_text("{}")
    return tmp_path / "model"


def test_copy_gives_an_instruction_another_ones_text(model_folder, capsys):
    before = mmembed.load(str(model_folder), device="cpu")
    assert main(["instructions", "-m", str(model_folder), "--copy", "sts=query"]) == 0
    after = mmembed.load(str(model_folder), device="cpu")
    assert after.config.instructions["sts"] == before.config.instructions["query"]
    np.testing.assert_array_equal(after.encode(TEXTS, instruction="sts"), before.encode(TEXTS, instruction="query"))
    assert (model_folder / "calibration.json").is_file()  # sts is not what the calibration encoded with
    assert "sts = 'Given a search query" in capsys.readouterr().out
    assert main(["instructions", "-m", str(model_folder)]) == 0
    assert "document (default): ''" in capsys.readouterr().out


def test_a_copy_leaves_the_source_and_a_changed_query_drops_the_calibration(model_folder, tmp_path, capsys):
    out = tmp_path / "copy"
    assert main(["instructions", "-m", str(model_folder), "--set", "query=Find it.", "--out", str(out)]) == 0
    assert json.loads((out / "mmembed_config.json").read_text())["instructions"]["query"] == "Find it."
    assert json.loads((model_folder / "mmembed_config.json").read_text())["instructions"]["query"] != "Find it."
    assert not (out / "calibration.json").exists() and (model_folder / "calibration.json").is_file()
    assert "calibration was dropped" in capsys.readouterr().out


def test_bad_requests_are_refused_by_name(model_folder, tmp_path, capsys):
    assert main(["instructions", "-m", str(model_folder), "--copy", "sts=nonsense"]) == 2
    assert "no instruction 'nonsense'" in capsys.readouterr().err
    assert main(["instructions", "-m", "mmembed-default", "--copy", "sts=query"]) == 2
    assert "shipped checkpoint" in capsys.readouterr().err
    assert main(["instructions", "-m", str(model_folder), "--set", "query=x", "--out", str(model_folder)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["instructions", "-m", str(tmp_path), "--set", "query=x"]) == 2
    assert "not an mmembed model folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["instructions", "-m", str(model_folder), "--set", "no-equals-sign"])
