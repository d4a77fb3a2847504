"""Speech you make: sentences spoken by real synthesisers, espeak-ng (Debian ``espeak-ng``: varied English accents,
voices, speeds and pitches) and, when installed, flite (Debian ``flite``: its awb, kal16, rms and slt voices) and
Festival (Debian ``festival festvox-kallpc16k``: kal_diphone), paired with their text. The sentences are the Tux
Paint captions, each spoken twice (two random voices), keeping the caption's Tux Paint split and category, so a
held-out object stays held out in speech too.

Rows: ``{"audio": "speech/<hash>.wav", "text": caption, "split": ..., "source": "speech", "label": category,
"voice": "espeak-ng:en-gb-scotland+f2"}``. Synthesis is idempotent: a WAV that exists is kept. The voice pool is
the synthesisers installed (recorded per row): the same machine set-up gives the same manifest."""

from __future__ import annotations

import hashlib
import random
import shutil
import subprocess
from pathlib import Path

from tqdm.auto import tqdm

from ..manifest import read_manifest, write_manifest
from . import register

ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029")
VARIANTS = ("", "+f1", "+f2", "+f3", "+f4", "+m1", "+m2", "+m3", "+m4")
FLITE_VOICES = ("awb", "kal16", "rms", "slt")


def espeak() -> str:
    found = shutil.which("espeak-ng")
    if not found:
        raise FileNotFoundError(
            "espeak-ng is needed to synthesise speech: apt-get install espeak-ng (scripts/setup.sh does)"
        )
    return found


def synthesize(text: str, path: Path, voice: str = "en-us", speed: int = 175, pitch: int = 50) -> Path:
    """Speak ``text`` into the WAV file ``path``: ``voice`` is an espeak-ng voice (``en-gb+f3``), optionally written
    ``espeak-ng:en-gb+f3``, ``flite:slt`` or ``festival:kal_diphone`` (those two ignore speed and pitch)."""
    engine, _, name = voice.rpartition(":")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.wav")
    stdin = None
    if engine == "flite":
        binary = shutil.which("flite")
        if not binary:
            raise FileNotFoundError("flite is needed for flite voices: apt-get install flite")
        command = [binary, "-voice", name, "-t", text, "-o", str(tmp)]
    elif engine == "festival":
        binary = shutil.which("text2wave")
        if not binary:
            raise FileNotFoundError(
                "Festival is needed for festival voices: apt-get install festival festvox-kallpc16k"
            )
        command, stdin = [binary, "-o", str(tmp), "-eval", f"(voice_{name})"], text
    elif engine in ("", "espeak-ng"):
        command = [espeak(), "-v", name, "-s", str(speed), "-p", str(pitch), "-w", str(tmp), text]
    else:
        raise ValueError(f"unknown speech synthesiser {engine!r} in voice {voice!r}: espeak-ng, flite or festival")
    subprocess.run(command, check=True, capture_output=True, input=stdin, text=stdin is not None)
    tmp.replace(path)
    return path


def voice_pool() -> list[str]:
    pool = [f"espeak-ng:{accent}{variant}" for accent in ACCENTS for variant in VARIANTS]
    if shutil.which("flite"):  # flite and Festival each get about a sixth of the draws
        pool += [f"flite:{voice}" for voice in FLITE_VOICES for _ in range(3)]
    if shutil.which("text2wave"):
        pool += ["festival:kal_diphone"] * 12
    return pool


def speech_rows(
    captions: list[dict],
    data_dir: Path,
    takes: int = 2,
    seed: int = 0,
    pool: list[str] | None = None,
    source: str = "speech",
) -> list[dict]:
    """``captions``: ``{"text", "split", "label"}`` rows; each spoken ``takes`` times by random voices of ``pool``
    (default: every installed synthesiser's, ``voice_pool()``), the WAVs in ``data_dir/source``."""
    rng, pool = random.Random(seed), pool or voice_pool()
    rows = []
    for row in tqdm(captions, desc=f"{source} (espeak-ng)", unit="sentence"):
        for _ in range(takes):
            voice = rng.choice(pool)
            speed, pitch = rng.randint(130, 190), rng.randint(30, 70)
            key = hashlib.sha256(f"{row['text']}|{voice}|{speed}|{pitch}".encode()).hexdigest()[:16]
            path = data_dir / source / f"{key}.wav"
            if not path.is_file():
                synthesize(row["text"], path, voice, speed, pitch)
            rows.append(
                {
                    "audio": str(path.relative_to(data_dir)),
                    "text": row["text"],
                    "split": row["split"],
                    "source": source,
                    "label": row.get("label"),
                    "voice": voice,
                }
            )
    return rows


def image_captions(data_dir: Path, name: str, build) -> list[dict]:
    """The image captions of source ``name`` (one row per caption, with its split and category), its manifest built
    by ``build(data_dir)`` first if needed."""
    manifest = data_dir / f"{name}.jsonl"
    if not manifest.is_file():
        build(data_dir)
    captions = {row["text"]: row for row in read_manifest(manifest) if "image" in row}
    return sorted(captions.values(), key=lambda r: r["text"])


def tuxpaint_captions(data_dir: Path) -> list[dict]:
    """The Tux Paint image captions, fetched first if needed."""
    from .tuxpaint import build_tuxpaint_manifest

    return image_captions(data_dir, "tuxpaint", build_tuxpaint_manifest)


@register("speech")
def build_speech_manifest(data_dir: Path) -> Path:
    data_dir = Path(data_dir).resolve()
    return write_manifest(data_dir / "speech.jsonl", speech_rows(tuxpaint_captions(data_dir), data_dir))
