"""Speech you make: sentences spoken by the espeak-ng synthesiser (Debian ``espeak-ng``) in varied English accents,
voices, speeds and pitches, paired with their text. The sentences are the Tux Paint captions, each spoken twice (two
random voices), keeping the caption's Tux Paint split and category, so a held-out object stays held out in speech too.

Rows: ``{"audio": "speech/<hash>.wav", "text": caption, "split": ..., "source": "speech", "label": category,
"voice": "en-gb-scotland+f2"}``. Synthesis is idempotent: a WAV that exists is kept."""
from __future__ import annotations

import hashlib
import random
import shutil
import subprocess
from pathlib import Path

from tqdm.auto import tqdm

from mmembed.manifest import read_manifest, write_manifest

ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029")
VARIANTS = ("", "+f1", "+f2", "+f3", "+f4", "+m1", "+m2", "+m3", "+m4")


def espeak() -> str:
    found = shutil.which("espeak-ng")
    if not found:
        raise FileNotFoundError("espeak-ng is needed to synthesise speech: apt-get install espeak-ng (scripts/setup.sh does)")
    return found


def synthesize(text: str, path: Path, voice: str = "en-us", speed: int = 175, pitch: int = 50) -> Path:
    """Speak ``text`` into the WAV file ``path`` (espeak-ng, 22.05 kHz mono)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.wav")
    subprocess.run([espeak(), "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(tmp), text],
                   check=True, capture_output=True)
    tmp.replace(path)
    return path


def speech_rows(captions: list[dict], data_dir: Path, takes: int = 2, seed: int = 0) -> list[dict]:
    """``captions``: ``{"text", "split", "label"}`` rows; each spoken ``takes`` times by random voices."""
    rng = random.Random(seed)
    rows = []
    for row in tqdm(captions, desc="speech (espeak-ng)", unit="sentence"):
        for _ in range(takes):
            voice = rng.choice(ACCENTS) + rng.choice(VARIANTS)
            speed, pitch = rng.randint(130, 190), rng.randint(30, 70)
            key = hashlib.sha256(f"{row['text']}|{voice}|{speed}|{pitch}".encode()).hexdigest()[:16]
            path = data_dir / "speech" / f"{key}.wav"
            if not path.is_file():
                synthesize(row["text"], path, voice, speed, pitch)
            rows.append({"audio": str(path.relative_to(data_dir)), "text": row["text"], "split": row["split"],
                         "source": "speech", "label": row.get("label"), "voice": voice})
    return rows


def build_speech_manifest(data_dir: Path) -> Path:
    data_dir = Path(data_dir).resolve()
    from .tuxpaint import build_tuxpaint_manifest

    tuxpaint = data_dir / "tuxpaint.jsonl"
    if not tuxpaint.is_file():
        build_tuxpaint_manifest(data_dir)
    captions = {row["text"]: row for row in read_manifest(tuxpaint) if "image" in row}
    return write_manifest(data_dir / "speech.jsonl", speech_rows(sorted(captions.values(), key=lambda r: r["text"]), data_dir))
