"""What every route shares: the client, the limits, and one gate so that at most ``max_concurrent`` requests embed at
once (memory stays bounded however many arrive; the rest wait their turn)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .limits import RequestRefused, ServiceLimits
from .schemas import ItemError, MediaItem, encode_item


@dataclass
class PreparedItems:
    """Request items ready for ``encode``: ``items[j]`` came from request position ``positions[j]``."""

    items: list = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    media: list[tuple[str, bytes]] = field(default_factory=list)
    texts: list[str | None] = field(default_factory=list)  # for token counts
    kinds: list[str | None] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)  # request position -> reason


@dataclass
class ServiceContext:
    client: object  # mmembed.Client
    limits: ServiceLimits
    model_names: list[str]  # names a request may use for the served model; the first is the one replies carry
    gate: threading.BoundedSemaphore = field(init=False)

    def __post_init__(self):
        self.gate = threading.BoundedSemaphore(self.limits.max_concurrent)

    @property
    def embedder(self):
        return self.client.embedder

    def prepare(self, raw_items: list, param: str) -> PreparedItems:
        self.limits.check_items(len(raw_items), param)
        prepared = PreparedItems()
        for position, raw in enumerate(raw_items):
            try:
                item, medium = encode_item(raw)
            except ItemError as error:
                prepared.errors[position] = str(error)
                continue
            prepared.items.append(item)
            prepared.positions.append(position)
            prepared.texts.append(raw.text if isinstance(raw, MediaItem) else raw)
            prepared.kinds.append(medium[0] if medium else None)
            if medium:
                prepared.media.append(medium)
        self.limits.check_media(prepared.media, param)
        return prepared

    def encode(self, prepared: PreparedItems, instruction: str | None = None):
        """Vectors (rows in ``prepared.items`` order; NaN rows for bad items, whose reasons join ``errors``)."""

        def failed(failure):
            prepared.errors[prepared.positions[failure.index]] = failure.reason

        try:
            with self.gate:
                return self.embedder.encode(
                    prepared.items, instruction=instruction, on_error=failed, show_progress_bar=False
                )
        except ValueError as error:  # e.g. an instruction that leaves no room for the content
            raise RequestRefused(422, str(error), "instruction") from None

    def search(self, **search):
        try:
            with self.gate:
                return self.client.search(search.pop("query"), **search)
        except ValueError as error:
            raise RequestRefused(422, str(error)) from None
