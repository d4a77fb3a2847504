"""Speech by voices no training run heard: the Tux Paint captions (their splits and categories kept, as in
``speech``) each spoken once by an espeak-ng voice variant outside the training pool (``speech.VARIANTS``, and the
flite and Festival voices), so an evaluation measures a model on new voices as well as new sentences.

Its test rows are the held-out measure for speech (new voices saying held-out captions); its train rows are trained
sentences in new voices, never trained on as audio, usable as selection rows. No training config reads this source.

Rows: ``{"audio": "speech-voices/<hash>.wav", "text": caption, "split": ..., "source": "speech-voices",
"label": category, "voice": "espeak-ng:en-gb+Andy"}``."""

from __future__ import annotations

from pathlib import Path

from ..manifest import write_manifest
from . import register
from .speech import ACCENTS, speech_rows, tuxpaint_captions

# espeak-ng variants that sound unlike each other and unlike every variant of the training pool (each checked to
# change the audio: an unknown variant name falls back to the plain voice silently)
HELD_OUT_VARIANTS = ("+m5", "+m6", "+m7", "+f5", "+Andy", "+Annie", "+klatt", "+Michael")


def held_out_voices() -> list[str]:
    return [f"espeak-ng:{accent}{variant}" for accent in ACCENTS for variant in HELD_OUT_VARIANTS]


def held_out_voice_rows(captions: list[dict], data_dir: Path, seed: int = 0, source: str = "speech-voices"):
    """``captions``: ``{"text", "split", "label"}`` rows; each spoken once by a random held-out voice."""
    return speech_rows(captions, data_dir, takes=1, seed=seed, pool=held_out_voices(), source=source)


@register("speech-voices")
def build_speech_voices_manifest(data_dir: Path) -> Path:
    data_dir = Path(data_dir).resolve()
    return write_manifest(data_dir / "speech-voices.jsonl", held_out_voice_rows(tuxpaint_captions(data_dir), data_dir))
