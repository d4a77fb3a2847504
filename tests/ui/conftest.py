import time

import pytest
from media_files import circle, square, write_audio
from net import free_port


@pytest.fixture
def demo_app(make_multimodal_embedder, tmp_path):
    """The real demo app on 127.0.0.1, over a tiny model and a small collection; yields (url, collection folder)."""
    from mmembed import Client
    from ui.app import build_demo

    folder = tmp_path / "collection"
    folder.mkdir()
    square("red").save(folder / "red_square.png")
    (folder / "red_square.txt").write_text("A red square.\n")
    circle("blue").save(folder / "blue_circle.png")
    (folder / "blue_circle.txt").write_text("A blue circle.\n")
    write_audio(folder / "beep.wav", seconds=0.3)
    client = Client(make_multimodal_embedder(), store=str(tmp_path / "store"))
    client.index(folder, progress=False)
    demo = build_demo(client, upload_dir=tmp_path / "uploads")
    port = free_port()
    demo.launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        allowed_paths=[str(tmp_path)],
        show_error=True,
    )
    time.sleep(0.5)
    yield f"http://127.0.0.1:{port}/", folder
    demo.close()
    client.close()
