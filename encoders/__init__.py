"""Image and audio towers (frozen) and the projectors that turn their features into soft tokens for the LLM.

Nothing here imports mmembed: data flows inputs -> encoders -> backbone.
"""

from .audio_loading import declared_seconds, load_audio
from .audio_towers import WhisperAudioTower, build_audio_tower
from .config import AudioTowerConfig, ImageTowerConfig, ProjectorConfig
from .errors import MediaError
from .image_loading import declared_pixels, open_image
from .image_towers import EfficientNetLite0Tower, ImageTower, OpenClipImageTower, build_image_tower
from .projector import Projector
from .shortcut import Shortcut, ShortcutEnsemble

__all__ = [
    "AudioTowerConfig",
    "ImageTowerConfig",
    "ProjectorConfig",
    "MediaError",
    "Projector",
    "Shortcut",
    "ShortcutEnsemble",
    "ImageTower",
    "OpenClipImageTower",
    "EfficientNetLite0Tower",
    "WhisperAudioTower",
    "build_image_tower",
    "build_audio_tower",
    "load_audio",
    "open_image",
    "declared_seconds",
    "declared_pixels",
]
