"""What one request may cost the service: every bound is a setting (``mmembed serve --max-...``), every refusal a 413
or 422 that says which bound and by how much. Media are measured from their headers before anything is decoded."""

from __future__ import annotations

from dataclasses import dataclass


class RequestRefused(Exception):
    """A request over a bound (``status`` 413) or malformed beyond per-item reasons (422)."""

    def __init__(self, status: int, message: str, param: str | None = None):
        super().__init__(message)
        self.status, self.message, self.param = status, message, param


@dataclass(frozen=True)
class ServiceLimits:
    max_request_bytes: int = 16 * 1024 * 1024  # the whole body, declared or streamed
    max_items: int = 64  # inputs per /embed or /v1/embeddings request
    max_instruction_chars: int = 1000  # a literal instruction (named ones are short by definition)
    max_query_chars: int = 10_000  # a /search text query
    max_k: int = 100  # results per /search
    max_audio_seconds: float = 300.0  # audio per request, summed over items, from their headers
    max_image_pixels: int = 100_000_000  # image pixels per request, summed over items, from their headers
    max_concurrent: int = 2  # requests embedding at once; the others wait their turn

    def __post_init__(self):
        for name in (
            "max_request_bytes",
            "max_items",
            "max_instruction_chars",
            "max_query_chars",
            "max_k",
            "max_image_pixels",
            "max_concurrent",
        ):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not self.max_audio_seconds > 0:
            raise ValueError(f"max_audio_seconds must be positive, got {self.max_audio_seconds!r}")

    def check_items(self, count: int, param: str = "inputs") -> None:
        if count == 0:
            raise RequestRefused(422, f"{param} is empty: send at least one item", param)
        if count > self.max_items:
            raise RequestRefused(
                413,
                f"{count} items in one request, above the limit of {self.max_items}: split it into several requests",
                param,
            )

    def check_instruction(self, instruction: str | None) -> None:
        if instruction is not None and len(instruction) > self.max_instruction_chars:
            raise RequestRefused(
                422,
                f"instruction of {len(instruction)} characters, above the limit of {self.max_instruction_chars}",
                "instruction",
            )
        if instruction is not None and not instruction.strip():
            raise RequestRefused(422, "instruction is empty: leave it out for the default", "instruction")

    def check_media(self, media: list[tuple[str, bytes]], param: str = "inputs") -> None:
        """``media``: (kind, encoded bytes) pairs. Headers that cannot be read are left to the decoder, which names
        the bad item."""
        from encoders import declared_pixels, declared_seconds

        seconds = sum(declared_seconds(data) or 0.0 for kind, data in media if kind == "audio")
        if seconds > self.max_audio_seconds:
            raise RequestRefused(
                413,
                f"the request holds {seconds:.0f} s of audio, above the limit of "
                f"{self.max_audio_seconds:.0f} s per request",
                param,
            )
        pixels = sum(declared_pixels(data) or 0 for kind, data in media if kind == "image")
        if pixels > self.max_image_pixels:
            raise RequestRefused(
                413,
                f"the request holds {pixels / 1e6:.1f} Mpx of images, above the limit of "
                f"{self.max_image_pixels / 1e6:.1f} Mpx per request",
                param,
            )
