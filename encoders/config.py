"""Typed tower and projector configs (saved inside the embedder's config, so a model folder describes its towers)."""

from __future__ import annotations

from dataclasses import dataclass, field

NOT_FEATURES = {"shapes_features": False}  # field metadata: a limit or a blend, not part of what the tower computes
# each EfficientNet-Lite0 block's output channels (an image summary's width is twice the sum over its blocks)
EFFICIENTNET_LITE0_CHANNELS = (16, 24, 24, 40, 40, 80, 80, 80, 112, 112, 112, 192, 192, 192, 192, 320)


@dataclass
class ImageTowerConfig:
    """kind ``open_clip``: any open_clip model name + pretrained tag (``None`` for random weights);
    kind ``efficientnet_lite0``: the packaged ImageNet EfficientNet-Lite0 (offline default)."""

    kind: str = "efficientnet_lite0"
    model_name: str | None = None
    pretrained: str | None = None
    num_tokens: int = 4  # the patch grid is average-pooled to a sqrt(n) x sqrt(n) grid of soft tokens
    # EfficientNet-Lite0 only: blocks (0-15) whose maps' mean and standard deviation over the image are appended to
    # each soft token's features, an image *summary* that maps built to read it use (a final shortcut); the
    # projector and the tower shortcuts read the leading grid features only
    summary_blocks: tuple[int, ...] = field(default=(), repr=False)  # (feature caches: training/features.py)
    # larger images are refused (decompression bombs)
    max_pixels: int = field(default=40_000_000, metadata=NOT_FEATURES)

    def __post_init__(self):
        if self.kind not in ("open_clip", "efficientnet_lite0"):
            raise ValueError(f"image tower kind must be open_clip or efficientnet_lite0, got {self.kind!r}")
        if self.kind == "open_clip" and not self.model_name:
            raise ValueError("an open_clip image tower needs model_name (e.g. 'ViT-B-32')")
        self.summary_blocks = tuple(int(block) for block in self.summary_blocks)  # a saved config holds a list
        if self.summary_blocks and self.kind != "efficientnet_lite0":
            raise ValueError("summary_blocks name EfficientNet-Lite0 blocks: an open_clip tower has none")
        if list(self.summary_blocks) != sorted(set(self.summary_blocks)) or not all(
            0 <= block < len(EFFICIENTNET_LITE0_CHANNELS) for block in self.summary_blocks
        ):
            raise ValueError(
                f"summary_blocks must be distinct block indices 0-{len(EFFICIENTNET_LITE0_CHANNELS) - 1} in order, got "
                f"{list(self.summary_blocks)}"
            )
        side = round(self.num_tokens**0.5)
        if side * side != self.num_tokens:
            raise ValueError(f"image num_tokens must be a square (1, 4, 9, 16, ...), got {self.num_tokens}")

    @property
    def summary_dim(self) -> int:
        """The image summary's width: each summary block's mean and standard deviation per channel."""
        return 2 * sum(EFFICIENTNET_LITE0_CHANNELS[block] for block in self.summary_blocks)


@dataclass
class AudioTowerConfig:
    """kind ``whisper``: a Whisper encoder; ``source`` is ``packaged:tiny.en`` (offline default), a local
    transformers Whisper folder or a Hugging Face id. Audio longer than ``chunk_seconds`` is cut into chunks, each
    encoded, and the frames of all chunks pooled together into ``num_tokens`` soft tokens."""

    kind: str = "whisper"
    source: str = "packaged:tiny.en"
    num_tokens: int = 8
    chunk_seconds: float = 30.0
    max_seconds: float = field(default=600.0, metadata=NOT_FEATURES)
    # also transcribe (Whisper's decoder) and blend the transcript's text vector in
    transcribe: bool = field(default=False, metadata=NOT_FEATURES)
    # the transcript's share of a clip's vector when transcribe is on
    transcript_weight: float = field(default=0.5, metadata=NOT_FEATURES)

    def __post_init__(self):
        if not 0.0 <= self.transcript_weight <= 1.0:
            raise ValueError(f"transcript_weight must be in [0, 1], got {self.transcript_weight}")
        if self.kind != "whisper":
            raise ValueError(f"audio tower kind must be whisper, got {self.kind!r}")
        if not 0 < self.chunk_seconds <= 30:
            raise ValueError("chunk_seconds must be in (0, 30]: Whisper sees 30 s at most")


@dataclass
class ProjectorConfig:
    """LLaVA-style MLP: Linear(in_dim, hidden) -> GELU -> Linear(hidden, out_dim)."""

    in_dim: int
    out_dim: int
    hidden_dim: int | None = None  # defaults to out_dim

    def __post_init__(self):
        self.hidden_dim = self.hidden_dim or self.out_dim
