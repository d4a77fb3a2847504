"""Errors raised for bad inputs: each names the item (its position and a short preview) and the reason."""

from __future__ import annotations


def preview(item: object, limit: int = 60) -> str:
    """A short, safe repr of an input for error messages (never dumps a 1M-character string)."""
    text = repr(item)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class InvalidInputError(ValueError):
    """One input item cannot be embedded."""

    def __init__(self, index: int, item: object, reason: str):
        self.index = index
        self.item_preview = preview(item)
        self.reason = reason
        super().__init__(f"input #{index} ({self.item_preview}): {reason}")


class InvalidBatchError(ValueError):
    """Some items of a batch cannot be embedded; ``failures`` lists every one of them."""

    def __init__(self, failures: list[InvalidInputError]):
        self.failures = failures
        lines = "\n".join(f"  - {failure}" for failure in failures[:20])
        more = f"\n  ... and {len(failures) - 20} more" if len(failures) > 20 else ""
        super().__init__(
            f"{len(failures)} input(s) cannot be embedded (pass on_error='nan' or a callback to embed the rest):\n"
            f"{lines}{more}"
        )
