"""The embedder's media side: frozen towers (built on first use, so text-only work never loads them) and trainable
projectors (built with the embedder, saved with it)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from encoders import (
    AudioTowerConfig,
    ImageTowerConfig,
    Projector,
    ProjectorConfig,
    Shortcut,
    ShortcutEnsemble,
    WhisperAudioTower,
    build_audio_tower,
    build_image_tower,
)
from encoders.feature_memo import features_of

from .packaged_whisper import resolve_whisper_source, whisper_transcriber

SHORTCUTS_FILE = "shortcuts.safetensors"
KNOWN_FEATURE_DIMS = {("image", "efficientnet_lite0"): 1280, ("audio", "packaged:tiny.en"): 384}  # no load needed


class Modalities(nn.Module):
    """Holds, per configured modality, a projector; towers are kept outside the module tree (frozen, not saved)."""

    def __init__(
        self, image_tower: dict | None, audio_tower: dict | None, llm_dim: int, hidden_dim: int | None, seed: int = 0
    ):
        super().__init__()
        self.device = torch.device("cpu")
        self.tower_configs = {}
        if image_tower is not None:
            self.tower_configs["image"] = ImageTowerConfig(**image_tower)
        if audio_tower is not None:
            self.tower_configs["audio"] = AudioTowerConfig(**audio_tower)
        self._towers: dict[str, nn.Module] = {}
        self._transcriber = None  # Whisper's decoder, when the audio tower transcribes
        self.projectors = nn.ModuleDict()
        self.shortcuts = nn.ModuleDict()  # per kind, when fitted (``add_shortcut``): features -> vector space
        self.llm_dim = llm_dim
        with torch.random.fork_rng(devices=[]):  # the caller's generator is left as it was
            torch.manual_seed(seed)  # the same config builds the same initial projectors
            for kind in self.tower_configs:
                feature_dim = self.feature_dim(kind)
                self.projectors[kind] = Projector(ProjectorConfig(feature_dim, llm_dim, hidden_dim))

    @property
    def kinds(self) -> list[str]:
        return list(self.tower_configs)

    def num_tokens(self, kind: str) -> int:
        return self.tower_configs[kind].num_tokens

    def set_num_tokens(self, kind: str, count: int) -> None:
        """Pool ``kind``'s tower features into ``count`` soft tokens from now on (the projector is per token)."""
        if count < 1:
            raise ValueError(f"num_tokens must be >= 1, got {count}")
        self.tower_configs[kind] = dataclasses.replace(self.tower_configs[kind], num_tokens=count)
        if kind in self._towers:
            self._towers[kind].config = self.tower_configs[kind]

    def set_summary_blocks(self, blocks) -> None:
        """Give the image tower's features an image summary of these EfficientNet-Lite0 blocks from now on (none:
        the grid features alone); the tower is rebuilt on next use."""
        self.tower_configs["image"] = dataclasses.replace(self.tower_configs["image"], summary_blocks=tuple(blocks))
        self._towers.pop("image", None)

    def set_transcribe(self, transcribe: bool) -> None:
        """Turn the audio tower's transcript channel on or off from now on (the features do not change: a tower
        built beside the transcriber shares its encoder, one built without it loads the same weights)."""
        self.tower_configs["audio"] = dataclasses.replace(self.tower_configs["audio"], transcribe=transcribe)

    def input_limits(self) -> dict:
        """The configured media limits for parsing inputs (image pixels, audio seconds); library defaults otherwise."""
        limits = {}
        if "image" in self.tower_configs:
            limits["max_pixels"] = self.tower_configs["image"].max_pixels
        if "audio" in self.tower_configs:
            limits["max_seconds"] = self.tower_configs["audio"].max_seconds
        return limits

    def feature_dim(self, kind: str) -> int:
        config = self.tower_configs[kind]
        key = (kind, config.kind if kind == "image" else config.source)
        if key in KNOWN_FEATURE_DIMS:
            return KNOWN_FEATURE_DIMS[key]
        return self.tower(kind).feature_dim  # open_clip / whisper: read off the built tower

    def tower(self, kind: str) -> nn.Module:
        if kind not in self._towers:
            if kind not in self.tower_configs:
                raise ValueError(
                    f"this model has no {kind} tower; build it with {kind}_tower=... to embed {kind} inputs"
                )
            config = self.tower_configs[kind]
            if kind == "image":
                tower = build_image_tower(config)
            elif config.transcribe:  # the transcriber's Whisper holds the encoder: one model in memory, not two
                tower = WhisperAudioTower(config, encoder=self.transcriber().model.get_encoder())
            else:
                tower = build_audio_tower(config, location=resolve_whisper_source(config.source))
            self._towers[kind] = tower.to(self.device)
        return self._towers[kind]

    def to(self, device) -> Modalities:
        self.device = torch.device(device)
        for tower in self._towers.values():
            tower.to(self.device)
        if self._transcriber is not None:  # its encoder may be the audio tower's: both move together
            self._transcriber.model.to(self.device)
            self._transcriber.device = self.device
        return super().to(device)

    @torch.no_grad()
    def image_features(self, images: list) -> torch.Tensor:
        """RGB PIL images -> (B, num_tokens, F) frozen tower features (remembered inside ``remembered_features()``)."""
        tower = self.tower("image")
        return features_of(tower, images, lambda todo: self._run_image_tower(tower, todo))

    def _run_image_tower(self, tower: nn.Module, images: list) -> torch.Tensor:
        if self.device.type == "cuda":  # resize + normalise on the GPU: the host only hands over decoded pixels
            pixels = tower.preprocess_batch(images, self.device)
        else:
            pixels = torch.stack([tower.preprocess(image) for image in images])
        parameter = next(tower.parameters())
        return tower(pixels.to(self.device, parameter.dtype, non_blocking=True)).float().cpu()

    @torch.no_grad()
    def audio_features(self, waveforms: list[torch.Tensor]) -> torch.Tensor:
        """16 kHz mono waveforms -> (B, num_tokens, F) frozen tower features (remembered inside
        ``remembered_features()``)."""
        tower = self.tower("audio")
        hand_over = None  # with the transcript channel, Whisper's decoder reads the states the tower just computed
        if self.tower_configs["audio"].transcribe and tower.chunk_samples == tower.window_samples:
            hand_over = self.transcriber().remember_encoded
        return features_of(tower, waveforms, lambda todo: tower(todo, on_encoded=hand_over).float().cpu())

    def transcripts(self, waveforms: list[torch.Tensor], progress: bool = False) -> list[str]:
        """English transcripts of 16 kHz waveforms, by Whisper's decoder (built on first use, from the audio tower's
        source: a full Whisper model, which the packaged tiny.en is). Clips whose features were just computed with
        the channel on are already transcribed (``audio_features`` hands the encoder states over): no second
        encoder pass."""
        return self.transcriber().transcribe(waveforms, progress=progress)

    def transcriber(self):
        """Whisper's encoder-decoder for the audio tower's source, loaded once (the tower shares its encoder)."""
        if self._transcriber is None:
            self._transcriber = whisper_transcriber(self.tower_configs["audio"].source, device=str(self.device))
        return self._transcriber

    def add_shortcut(self, kind: str, seed: int = 0) -> Shortcut:
        """A new (or the existing) tower shortcut for ``kind``: its mean-pooled features straight to the vector."""
        if kind not in self.shortcuts:
            self.shortcuts[kind] = self.new_shortcut(kind, seed)
        return self.shortcuts[kind]

    def summary_dim(self, kind: str) -> int:
        """The width of the image summary that follows the grid features (``ImageTowerConfig.summary_blocks``)."""
        return getattr(self.tower_configs[kind], "summary_dim", 0)

    def new_shortcut(
        self,
        kind: str,
        seed: int = 0,
        out_dim: int | None = None,
        hidden_dim: int | None = None,
        dropout: float = 0.0,
        in_dim: int | None = None,
    ) -> Shortcut:
        """A freshly initialised tower shortcut for ``kind`` (not added to this model's own), into the LLM's
        dimension or ``out_dim`` (a final shortcut's: the model's final vectors); an MLP with ``hidden_dim``. It
        reads the mean of the soft tokens' grid features, or with ``in_dim`` one of the other widths its tower
        gives: the grid features and the image summary after them, and either of those with the soft tokens side by
        side (``num_tokens`` times the grid features)."""
        if kind not in self.tower_configs:
            raise ValueError(f"this model has no {kind} tower to take a shortcut from")
        grid, summary, tokens = self.feature_dim(kind), self.summary_dim(kind), self.tower_configs[kind].num_tokens
        widths = {grid: 1, grid + summary: 1, tokens * grid: tokens, tokens * grid + summary: tokens}
        if in_dim is not None and in_dim not in widths:
            raise ValueError(
                f"a {kind} map reading {in_dim} features does not fit this model's {kind} tower: it gives {grid} "
                f"grid features"
                + (f" and a {summary}-wide summary" if summary else "")
                + " (summary_blocks in its config)"
                + (f", read pooled or as {tokens} tokens side by side" if tokens > 1 else "")
            )
        if in_dim == grid + summary == tokens * grid and summary:
            raise ValueError(f"a {summary}-wide image summary makes a map's width ambiguous: choose other blocks")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            width = in_dim or grid
            return Shortcut(width, out_dim or self.llm_dim, hidden_dim, dropout, widths[width], grid).to(self.device)

    def project(self, kind: str, features: torch.Tensor) -> torch.Tensor:
        """Projector in its own dtype (float32 by default, also beside a bf16 backbone)."""
        projector = self.projectors[kind]
        return projector(features.to(next(projector.parameters()).dtype))


def blend_shortcuts(output: torch.Tensor, media: dict, shortcuts: nn.ModuleDict, weights: dict, device) -> list[int]:
    """Blend each media row of ``output`` in place with its kind's shortcut of its tower features (``media``: row ->
    (kind, features)): ``(1 - w) * unit(row) + w * unit(shortcut(features))``, ``w = weights[kind]``; kinds at
    weight 0 are left as they are. Returns the rows it blended."""
    blended = []
    for kind, shortcut in shortcuts.items():
        weight = weights.get(kind, 0.0)
        rows = [i for i, (item_kind, _) in media.items() if item_kind == kind]
        if not rows or weight <= 0:
            continue
        with torch.inference_mode():
            features = torch.stack([media[i][1] for i in rows]).to(device)
            direct = F.normalize(shortcut(features).float(), dim=-1).cpu()
        output[rows] = (1 - weight) * F.normalize(output[rows], dim=-1) + weight * direct
        blended += rows
    return blended


def save_shortcuts(shortcuts: nn.ModuleDict, path: Path, dtype: torch.dtype | None = None) -> None:
    """Tower shortcuts into one safetensors file (none written when there are none), in ``dtype`` if given (loading
    casts them back to the model's)."""
    if len(shortcuts):
        state = {k: v.detach().cpu().to(dtype or v.dtype).contiguous() for k, v in shortcuts.state_dict().items()}
        save_file(state, str(path))


def load_shortcuts(path: Path, new_shortcut) -> nn.ModuleDict:
    """The tower shortcuts saved at ``path`` (empty without the file); ``new_shortcut(kind, in_dim=...)`` builds each
    one (each member of an ensemble), as wide as its saved first layer (the grid features, or with an image summary
    after them)."""
    shortcuts = nn.ModuleDict()
    if path.is_file():
        state = load_file(str(path))
        for kind in sorted({key.split(".")[0] for key in state}):
            members = sorted({int(key.split(".")[2]) for key in state if key.startswith(f"{kind}.members.")})
            prefix = f"{kind}.members.0." if members else f"{kind}."
            first = state.get(f"{prefix}mlp.0.weight", state.get(f"{prefix}linear.weight"))
            in_dim = first.shape[1] if first is not None else None
            if members:
                shortcuts[kind] = ShortcutEnsemble([new_shortcut(kind, in_dim=in_dim) for _ in members])
            else:
                shortcuts[kind] = new_shortcut(kind, in_dim=in_dim)
        shortcuts.load_state_dict(state)
    return shortcuts
