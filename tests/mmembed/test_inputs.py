"""parse_inputs: media decoded on a thread pool gives exactly what one-by-one parsing gives, failures in order."""

import numpy as np
import pytest
from media_files import circle, square, tone, write_audio

from mmembed.errors import InvalidInputError
from mmembed.inputs import parse_input, parse_inputs


@pytest.fixture
def items(tmp_path):
    for i, colour in enumerate(["red", "green", "blue", "purple"]):
        (square if i % 2 else circle)(colour, size=96).save(tmp_path / f"{colour}.png")
    write_audio(tmp_path / "tone.flac", seconds=0.5, rate=48_000, channels=2)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    return [
        tmp_path / "red.png",
        "A caption.",
        tmp_path / "broken.png",
        tmp_path / "green.png",
        (tone(0.3, 8_000), 8_000),
        tmp_path / "tone.flac",
        tmp_path / "missing.png",
        {"image": tmp_path / "blue.png", "text": "What colour?"},
        tmp_path / "purple.png",
    ]


def serial(items):
    parsed, failures = {}, []
    for index, item in enumerate(items):
        try:
            parsed[index] = parse_input(index, item)
        except InvalidInputError as failure:
            failures.append(failure)
    return parsed, failures


def test_threaded_decoding_equals_serial_parsing(items):
    expected, expected_failures = serial(items)
    parsed, failures = parse_inputs(items, workers=4)
    assert list(parsed) == list(expected) == [0, 1, 3, 4, 5, 7, 8]
    for index, want in expected.items():
        got = parsed[index]
        assert got.text == want.text and got.media_kind == want.media_kind
        if want.image is not None:
            assert np.array_equal(np.asarray(got.image), np.asarray(want.image))
        if want.audio is not None:
            assert np.array_equal(got.audio.numpy(), want.audio.numpy())
    assert [f.index for f in failures] == [f.index for f in expected_failures] == [2, 6]
    assert [str(f) for f in failures] == [str(f) for f in expected_failures]
    assert "no such file" in str(failures[1])


def test_limits_reach_every_thread(items):
    _, failures = parse_inputs(items, workers=3, max_pixels=1_000)
    assert [f.index for f in failures] == [0, 2, 3, 6, 7, 8]  # every image is over 1,000 pixels
