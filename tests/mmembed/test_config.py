import json

import pytest

from mmembed.config import CONFIG_NAME, EmbedderConfig


def test_round_trip(tmp_path):
    config = EmbedderConfig(
        pooling="last", attention="bidirectional", instructions={"query": "Find it", "document": ""}
    )
    config.save(tmp_path)
    assert EmbedderConfig.load(tmp_path) == config
    assert json.loads((tmp_path / CONFIG_NAME).read_text())["pooling"] == "last"


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("pooling", "max", "pooling must be one of"),
        ("attention", "sideways", "attention must be one of"),
        ("max_length", 2, "max_length"),
        ("instruction_template", "no slot", "instruction_template"),
        ("default_instruction", "missing", "default_instruction"),
    ],
)
def test_bad_values_are_named(field, value, message):
    with pytest.raises(ValueError, match=message):
        EmbedderConfig(**{field: value})


def test_unknown_keys_and_future_versions_are_refused():
    with pytest.raises(ValueError, match="unknown keys.*colour"):
        EmbedderConfig.from_dict({"colour": "red"})
    with pytest.raises(ValueError, match="upgrade mmembed"):
        EmbedderConfig.from_dict({"format_version": 99})


def test_instruction_text_by_name_literal_and_default():
    config = EmbedderConfig(instructions={"query": "Find it", "document": ""}, default_instruction="document")
    assert config.instruction_text("query") == "Find it\n"
    assert config.instruction_text("Classify this") == "Classify this\n"
    assert config.instruction_text(None) == ""


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not an mmembed model folder"):
        EmbedderConfig.load(tmp_path)
