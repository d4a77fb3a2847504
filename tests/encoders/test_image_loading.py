"""Image decoding policy: every awkward file either becomes RGB or is refused with a reason."""

import io

import numpy as np
import pytest
from media_files import square
from PIL import Image

from encoders import MediaError, open_image


def png_bytes(image: Image.Image, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=kwargs.pop("format", "PNG"), **kwargs)
    return buffer.getvalue()


def test_rgb_png_round_trip(tmp_path):
    (tmp_path / "red.png").write_bytes(png_bytes(square("red")))
    image = open_image(tmp_path / "red.png")
    assert image.mode == "RGB" and image.getpixel((30, 30)) == (255, 0, 0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: square("red").convert("CMYK"),
        lambda: Image.fromarray((np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)),  # 16-bit greyscale
        lambda: square("red").convert("P"),
        lambda: square("red").convert("RGBA").convert("P"),  # palette + alpha
        lambda: square("red").convert("LA"),
    ],
)
def test_odd_modes_become_rgb(make):
    original = make()
    data = png_bytes(original, format="TIFF" if original.mode == "CMYK" else "PNG")
    image = open_image(data)
    assert image.mode == "RGB" and image.size == (64, 64)


def test_transparency_is_composited_on_white():
    rgba = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    assert open_image(png_bytes(rgba)).getpixel((0, 0)) == (255, 255, 255)


def test_animated_gif_gives_its_first_frame():
    frames = [square("red").convert("P"), square("blue").convert("P")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    image = open_image(buffer.getvalue())
    assert image.getpixel((30, 30))[0] > 200 and image.getpixel((30, 30))[2] < 50


def test_wrong_extension_is_read_by_content(tmp_path):
    (tmp_path / "photo.wav").write_bytes(png_bytes(square("blue")))
    assert open_image(tmp_path / "photo.wav").getpixel((30, 30)) == (0, 0, 255)


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"", "empty"),
        (b"this is not an image at all", "not an image format"),
        (png_bytes(square("red"))[:60], "truncated|corrupt|not an image"),
    ],
)
def test_bad_bytes_are_refused(data, reason):
    with pytest.raises(MediaError, match=reason):
        open_image(data)


def test_zero_byte_and_missing_files(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(MediaError, match="zero-byte"):
        open_image(tmp_path / "empty.png")
    with pytest.raises(MediaError, match="no such image"):
        open_image(tmp_path / "missing.png")


def test_decompression_bomb_is_refused_before_decoding():
    bomb = png_bytes(Image.new("1", (20_000, 20_000)), optimize=True)  # 400 Mpx, a few KB on disk
    assert len(bomb) < 200_000
    with pytest.raises(MediaError, match="too large|above the limit"):
        open_image(bomb)
    with pytest.raises(MediaError, match="above the limit"):
        open_image(square("red"), max_pixels=100)
