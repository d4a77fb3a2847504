"""Speech of sentences no source speaks: the Google emoji names ("Smiling face with halo.", the ``emoji`` source's
captions, their splits and categories kept), each spoken once by a voice no training run heard (``speech_voices``'
held-out pool). ``speech-voices`` says the Tux Paint captions, which ``speech`` trains on in other voices, so a map
fitted on ``speech`` finds its train rows again by their words; these sentences were never audio in any training
set, so they measure how a sound path carries to new sentences as well as new voices.

No training config reads this source: its train rows are selection rows (``mmembed transcript-weight``,
``mmembed fit-shortcut --final --select-data``), its test rows a held-out measure.

Rows: ``{"audio": "speech-emoji/<hash>.wav", "text": name, "split": ..., "source": "speech-emoji", "label":
category, "voice": "espeak-ng:en-gb+Andy"}``."""

from __future__ import annotations

from pathlib import Path

from ..manifest import write_manifest
from . import register
from .speech import image_captions
from .speech_voices import held_out_voice_rows


def emoji_captions(data_dir: Path) -> list[dict]:
    """The Google emoji names (one row per name, with its split and category), fetched first if needed."""
    from .emoji import build_emoji_manifest

    return image_captions(data_dir, "emoji", build_emoji_manifest)


@register("speech-emoji")
def build_speech_emoji_manifest(data_dir: Path) -> Path:
    data_dir = Path(data_dir).resolve()
    rows = held_out_voice_rows(emoji_captions(data_dir), data_dir, source="speech-emoji")
    return write_manifest(data_dir / "speech-emoji.jsonl", rows)
