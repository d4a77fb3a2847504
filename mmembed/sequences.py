"""Inputs -> token sequences: text checks, instruction prefix, media placeholders, truncation, the mode token.

Every sequence is ``[leading special tokens] + instruction + [media placeholders] + text + <|embed|>``.
The instruction is tokenized
on its own (GritLM-style) so the pooling mask can leave it out exactly, and truncation only ever cuts the content:
the instruction and the mode token always survive.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch

from .config import EmbedderConfig
from .errors import InvalidInputError

CHARS_PER_TOKEN_BOUND = 64  # texts are clipped to budget * this many characters before tokenizing


class TruncationWarning(UserWarning):
    """An input was longer than ``max_length`` tokens and its content was cut."""


@dataclass
class TokenSequence:
    ids: list[int]
    pool_start: int  # first position a mean pooling covers (after the instruction)
    media_kind: str | None = None  # "image" / "audio": soft tokens replace the placeholders at media_start
    media_start: int = 0
    features: torch.Tensor | None = None  # (num_tokens, F) frozen tower features for the projector


def check_text(index: int, item: object) -> str:
    """Return the text of a valid text input, or raise an error naming the item and the reason."""
    if item is None:
        raise InvalidInputError(index, item, "got None, expected a non-empty string")
    if isinstance(item, (bytes, bytearray)):
        try:
            item = bytes(item).decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidInputError(
                index, item, f"bytes are not valid UTF-8 (byte 0x{item[error.start]:02x} at offset {error.start})"
            ) from None
    if not isinstance(item, str):
        raise InvalidInputError(index, item, f"expected a string, got {type(item).__name__}")
    if not item.strip():
        raise InvalidInputError(index, item, "empty text: there is nothing to embed")
    try:
        item.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidInputError(index, item, f"not valid Unicode: {error.reason} at character {error.start}") from None
    return item


class SequenceBuilder:
    """Turns checked texts and media features into :class:`TokenSequence` for one tokenizer and config."""

    def __init__(self, tokenizer, config: EmbedderConfig):
        self.tokenizer = tokenizer
        self.config = config
        self.embed_token_id = tokenizer.convert_tokens_to_ids(config.embed_token)
        if self.embed_token_id is None or self.embed_token_id == tokenizer.unk_token_id:
            raise ValueError(
                f"the tokenizer has no {config.embed_token!r} token; build the embedder with Embedder.build"
            )
        self.leading_ids = self._leading_special_ids()
        self._prefix_cache: dict[str | None, list[int]] = {}
        self.placeholder_ids = {
            kind: tokenizer.convert_tokens_to_ids(token)
            for kind, token in (("image", config.image_token), ("audio", config.audio_token))
            if token in tokenizer.get_vocab()
        }

    def _leading_special_ids(self) -> list[int]:
        """The special tokens the tokenizer puts in front of a text (a BOS for Llama-3-like models, none for
        SmolLM2)."""
        with_specials = self.tokenizer("x")["input_ids"]
        without = self.tokenizer("x", add_special_tokens=False)["input_ids"]
        for start in range(len(with_specials) - len(without) + 1):
            if with_specials[start : start + len(without)] == without:
                return list(with_specials[:start])
        return []

    def prefix_ids(self, instruction: str | None) -> list[int]:
        if instruction not in self._prefix_cache:
            text = self.config.instruction_text(instruction)
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
            self._prefix_cache[instruction] = self.leading_ids + list(ids)
        return self._prefix_cache[instruction]

    def tokenize(
        self, texts: list[str], instruction: str | None, indices: list[int] | None = None
    ) -> list[TokenSequence]:
        """Sequences for checked texts (``indices``: their positions in the caller's input, for the warning)."""
        return self.build([(text, None, None) for text in texts], instruction, indices)

    def build(
        self,
        items: list[tuple[str | None, str | None, torch.Tensor | None]],
        instruction: str | None,
        indices: list[int] | None = None,
    ) -> list[TokenSequence]:
        """Sequences for ``(text or None, media kind or None, features or None)`` items; warns once about truncation."""
        prefix = self.prefix_ids(instruction)
        clip_tokens = self.config.max_length - len(prefix) - 1
        texts = [text or "" for text, _, _ in items]
        encoded = self.tokenizer(
            [t[: max(clip_tokens, 1) * CHARS_PER_TOKEN_BOUND] for t in texts], add_special_tokens=False
        )["input_ids"]
        sequences, truncated = [], []
        for position, ((text, kind, features), content) in enumerate(zip(items, encoded)):
            media = [self.placeholder_ids[kind]] * features.shape[0] if kind else []
            budget = self.config.max_length - len(prefix) - len(media) - 1
            if budget < (1 if text else 0):
                raise ValueError(
                    f"the instruction and media take {len(prefix) + len(media)} tokens, leaving no room in "
                    f"max_length={self.config.max_length}"
                )
            if len(content) > budget or len(texts[position]) > max(clip_tokens, 1) * CHARS_PER_TOKEN_BOUND:
                truncated.append(indices[position] if indices else position)
                content = content[:budget]
            sequences.append(
                TokenSequence(
                    ids=prefix + media + list(content) + [self.embed_token_id],
                    pool_start=len(prefix),
                    media_kind=kind,
                    media_start=len(prefix),
                    features=features,
                )
            )
        if truncated:
            shown = ", ".join(f"#{i}" for i in truncated[:10]) + (" ..." if len(truncated) > 10 else "")
            warnings.warn(
                f"{len(truncated)} input(s) longer than max_length={self.config.max_length} tokens had their text "
                f"truncated (the instruction, media and <|embed|> are kept): {shown}",
                TruncationWarning,
                stacklevel=3,
            )
        return sequences
