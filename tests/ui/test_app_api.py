"""The demo's actions through Gradio's own HTTP API (gradio_client), against the running app."""

import pytest
from gradio_client import Client as GradioClient
from gradio_client import handle_file


def test_text_and_image_queries(demo_app):
    url, folder = demo_app
    app = GradioClient(url, verbose=False)
    gallery, table, audio = app.predict("a red square", None, None, "any", 5, None, api_name="/run_search")[:3]
    assert "A red square." in table and "A blue circle." in table and len(gallery) == 2
    gallery, table, _ = app.predict(
        "", handle_file(str(folder / "blue_circle.png")), None, "image", 5, None, api_name="/run_search"
    )[:3]
    assert table.index("A blue circle.") < table.index("A red square.")  # the image itself ranks first
    assert gallery[0]["caption"].endswith("A blue circle.")
    assert "<td>1.000</td><td>image</td><td>A blue circle.</td>" in table


def test_bad_upload_is_a_readable_error_and_the_app_keeps_running(demo_app, tmp_path):
    url, _ = demo_app
    app = GradioClient(url, verbose=False)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 50)
    with pytest.raises(Exception, match="Cannot use that input: not an image format PIL can read"):
        app.predict("", handle_file(str(broken)), None, "any", 5, None, api_name="/run_search")
    not_audio = tmp_path / "song.wav"
    not_audio.write_text("this is not a sound")
    with pytest.raises(Exception, match="Cannot use that input: not audio that libsndfile can decode"):
        app.predict("", None, handle_file(str(not_audio)), "any", 5, None, api_name="/run_search")
    assert "A red square." in app.predict("red", None, None, "any", 5, None, api_name="/run_search")[1]


def test_add_files_indexes_them(demo_app, tmp_path):
    from media_files import square

    url, _ = demo_app
    app = GradioClient(url, verbose=False)
    square("green").save(tmp_path / "green_square.png")
    summary = app.predict([handle_file(str(tmp_path / "green_square.png"))], api_name="/add_files")
    assert "1 added" in summary
    assert "green square" in app.predict("green", None, None, "image", 10, None, api_name="/run_search")[1]


def test_sound_query_plays_the_best_sound_and_the_space_draws(demo_app):
    url, folder = demo_app
    app = GradioClient(url, verbose=False)
    gallery, table, audio = app.predict(
        "", None, handle_file(str(folder / "beep.wav")), "audio", 3, None, api_name="/run_search"
    )[:3]
    assert "beep.wav" in table and audio is not None and audio.endswith(".wav")
    plot = app.predict(api_name="/show_space")
    assert plot is not None
