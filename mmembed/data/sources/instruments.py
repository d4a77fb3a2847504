"""Instruments you render: the 128 General MIDI instruments, each playing one note at three pitches, rendered with
FluidSynth (Debian ``fluidsynth``) from the Fluid R3 GM SoundFont (Debian ``fluid-soundfont-gm``, MIT). Captions name
the instrument and the register (``"A cello playing a low note."``); the label is the GM family (strings, brass ...);
instruments are split (not notes), so a held-out instrument is never heard in training."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

from ..manifest import split_of, write_manifest
from ..packaged import unpack_debian_package
from ..wording import a
from . import register

FAMILIES = (
    "piano",
    "chromatic percussion",
    "organ",
    "guitar",
    "bass",
    "strings",
    "ensemble",
    "brass",
    "reed",
    "pipe",
    "synth lead",
    "synth pad",
    "synth effects",
    "ethnic",
    "percussive",
    "sound effects",
)
INSTRUMENTS = (
    "acoustic grand piano",
    "bright acoustic piano",
    "electric grand piano",
    "honky-tonk piano",
    "electric piano",
    "chorused electric piano",
    "harpsichord",
    "clavinet",
    "celesta",
    "glockenspiel",
    "music box",
    "vibraphone",
    "marimba",
    "xylophone",
    "tubular bells",
    "dulcimer",
    "drawbar organ",
    "percussive organ",
    "rock organ",
    "church organ",
    "reed organ",
    "accordion",
    "harmonica",
    "tango accordion",
    "nylon-string guitar",
    "steel-string guitar",
    "jazz guitar",
    "clean electric guitar",
    "muted electric guitar",
    "overdriven guitar",
    "distortion guitar",
    "guitar harmonics",
    "acoustic bass",
    "fingered electric bass",
    "picked electric bass",
    "fretless bass",
    "slap bass",
    "popped bass",
    "synth bass 1",
    "synth bass 2",
    "violin",
    "viola",
    "cello",
    "contrabass",
    "tremolo strings",
    "pizzicato strings",
    "orchestral harp",
    "timpani",
    "string ensemble",
    "slow string ensemble",
    "synth strings 1",
    "synth strings 2",
    "choir aahs",
    "voice oohs",
    "synth voice",
    "orchestra hit",
    "trumpet",
    "trombone",
    "tuba",
    "muted trumpet",
    "french horn",
    "brass section",
    "synth brass 1",
    "synth brass 2",
    "soprano sax",
    "alto sax",
    "tenor sax",
    "baritone sax",
    "oboe",
    "english horn",
    "bassoon",
    "clarinet",
    "piccolo",
    "flute",
    "recorder",
    "pan flute",
    "blown bottle",
    "shakuhachi",
    "whistle",
    "ocarina",
    "square wave lead",
    "sawtooth lead",
    "calliope lead",
    "chiff lead",
    "charang lead",
    "voice lead",
    "fifths lead",
    "bass and lead",
    "new age pad",
    "warm pad",
    "polysynth pad",
    "choir pad",
    "bowed pad",
    "metallic pad",
    "halo pad",
    "sweep pad",
    "rain effect",
    "soundtrack effect",
    "crystal effect",
    "atmosphere effect",
    "brightness effect",
    "goblins effect",
    "echoes effect",
    "sci-fi effect",
    "sitar",
    "banjo",
    "shamisen",
    "koto",
    "kalimba",
    "bagpipe",
    "fiddle",
    "shanai",
    "tinkle bell",
    "agogo",
    "steel drums",
    "woodblock",
    "taiko drum",
    "melodic tom",
    "synth drum",
    "reverse cymbal",
    "guitar fret noise",
    "breath noise",
    "seashore",
    "bird tweet",
    "telephone ring",
    "helicopter",
    "applause",
    "gunshot",
)
REGISTERS = {"low": 48, "middle": 60, "high": 72}  # MIDI notes C3, C4, C5


def variable_length(value: int) -> bytes:
    """A MIDI variable-length quantity (7 bits per byte, high bit set on all but the last)."""
    out = [value & 0x7F]
    while value := value >> 7:
        out.append((value & 0x7F) | 0x80)
    return bytes(reversed(out))


def notes_midi(notes: list[tuple[int, int]], seconds: float = 1.5, spacing: float = 6.0, velocity: int = 100) -> bytes:
    """A format-0 MIDI file playing ``(program, note)`` pairs one after the other on channel 0, each held for
    ``seconds`` and starting ``spacing`` seconds after the previous one (480 ticks per beat at 120 bpm: 960 per
    second)."""
    held, rest = int(seconds * 960), int((spacing - seconds) * 960)
    events = b""
    for number, (program, note) in enumerate(notes):
        events += variable_length(rest if number else 0) + bytes([0xC0, program])
        events += b"\x00" + bytes([0x90, note, velocity]) + variable_length(held) + bytes([0x80, note, 0])
    events += b"\x00\xff\x2f\x00"
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk" + struct.pack(">I", len(events)) + events


def soundfont(data_dir: Path) -> Path:
    installed = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
    if installed.is_file():
        return installed
    return (
        unpack_debian_package("fluid-soundfont-gm", data_dir / "fluid-soundfont-gm")
        / "usr/share/sounds/sf2/FluidR3_GM.sf2"
    )


def render(midi: bytes, sf2: Path, path: Path, rate: int = 16_000) -> Path:
    binary = shutil.which("fluidsynth")
    if not binary:
        raise FileNotFoundError("fluidsynth is needed to render instruments: apt-get install fluidsynth")
    path.parent.mkdir(parents=True, exist_ok=True)
    midi_path, tmp = path.with_suffix(".mid"), path.with_suffix(".tmp.wav")
    midi_path.write_bytes(midi)
    subprocess.run(
        [binary, "-ni", "-q", "-g", "0.8", "-r", str(rate), "-F", str(tmp), str(sf2), str(midi_path)],
        check=True,
        capture_output=True,
    )
    midi_path.unlink()
    tmp.replace(path)
    return path


def render_notes(
    notes: list[tuple[int, int]], sf2: Path, paths: list[Path], spacing: float = 6.0, rate: int = 16_000
) -> None:
    """Every note in one FluidSynth run (the 148 MB SoundFont loads once), cut into one clip per note: from its start
    to where its release has died away (the last sample above -60 dB), at most ``spacing`` seconds."""
    import numpy as np
    import soundfile

    whole = render(notes_midi(notes, spacing=spacing), sf2, paths[0].with_name("all-notes.wav"), rate)
    samples, rate = soundfile.read(whole, dtype="float32", always_2d=True)
    step = int(spacing * rate)
    for number, path in enumerate(paths):
        clip = samples[number * step : (number + 1) * step]
        loud = np.flatnonzero(np.abs(clip).max(axis=1) > 1e-3)
        end = min(len(clip), (loud[-1] + 1 if len(loud) else 0) + rate // 10)
        soundfile.write(path, clip[: max(end, rate)], rate)
    whole.unlink()


def instrument_rows(data_dir: Path, sf2: Path) -> list[dict]:
    rows, missing = [], []
    for program, name in enumerate(INSTRUMENTS):
        split = split_of(f"gm-{program}")
        for pitch, note in REGISTERS.items():
            path = data_dir / "instruments" / f"{program:03d}-{pitch}.wav"
            if not path.is_file():
                missing.append(((program, note), path))
            rows.append(
                {
                    "audio": str(path.relative_to(data_dir)),
                    "text": f"{a(name).capitalize()} playing a {pitch} note.",
                    "split": split,
                    "source": "instruments",
                    "label": FAMILIES[program // 8],
                }
            )
    if missing:
        print(f"instruments: rendering {len(missing)} notes with fluidsynth (one run)")
        render_notes([note for note, _ in missing], sf2, [path for _, path in missing])
    return rows


@register("instruments")
def build_instruments_manifest(data_dir: Path) -> Path:
    data_dir = Path(data_dir).resolve()
    return write_manifest(data_dir / "instruments.jsonl", instrument_rows(data_dir, soundfont(data_dir)))
