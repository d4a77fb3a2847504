"""Images in, RGB PIL images out, or a :class:`MediaError` saying why not.

Policy: the file's *content* decides (a PNG named .jpg is a PNG); CMYK, 16-bit, greyscale and palette images are
converted to RGB, transparency composited on white; an animated image contributes its first frame; images above
``max_pixels`` are refused before decoding (decompression bombs); truncated or corrupt files are refused.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import MediaError


def open_image(source, max_pixels: int = 40_000_000) -> Image.Image:
    """``source``: a PIL image, a path, or encoded bytes."""
    if isinstance(source, Image.Image):
        image = source
    else:
        if isinstance(source, (str, Path)):
            path = Path(source)
            if not path.is_file():
                raise MediaError(f"no such image file: {path}")
            if path.stat().st_size == 0:
                raise MediaError(f"{path} is an empty (zero-byte) file")
            data = path.read_bytes()
        elif isinstance(source, (bytes, bytearray)):
            if not source:
                raise MediaError("empty image bytes")
            data = bytes(source)
        else:
            raise MediaError(f"cannot read an image from {type(source).__name__}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(io.BytesIO(data))
                if image.width * image.height > max_pixels:
                    raise MediaError(f"image is {image.width}x{image.height} pixels, above the limit of {max_pixels}")
                image.load()
        except MediaError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise MediaError(f"image too large (decompression bomb guard): {error}") from None
        except UnidentifiedImageError:
            raise MediaError("not an image format PIL can read (corrupt, or not an image)") from None
        except (OSError, SyntaxError, ValueError) as error:
            raise MediaError(f"corrupt or truncated image: {error}") from None
    if image.width * image.height > max_pixels:
        raise MediaError(f"image is {image.width}x{image.height} pixels, above the limit of {max_pixels}")
    if image.width == 0 or image.height == 0:
        raise MediaError("image has zero width or height")
    return to_rgb(image)


def declared_pixels(data: bytes) -> int | None:
    """Width x height from an encoded image's header (nothing decoded), or None when it cannot be read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                return image.width * image.height
    except (Image.DecompressionBombError, UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None


def to_rgb(image: Image.Image) -> Image.Image:
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # animated: the first frame
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16/32-bit greyscale: rescale to 8 bits
        array = np.asarray(image, dtype=np.float64)
        span = array.max() - array.min()
        array = (array - array.min()) / (span if span else 1.0) * 255.0
        image = Image.fromarray(array.astype(np.uint8), mode="L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    return image.convert("RGB")
