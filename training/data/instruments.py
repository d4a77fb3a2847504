"""Instruments you render: the 128 General MIDI instruments, each playing one note at three pitches, rendered with
FluidSynth (Debian ``fluidsynth``) from the Fluid R3 GM SoundFont (Debian ``fluid-soundfont-gm``, MIT). Captions name
the instrument and the register (``"A cello playing a low note."``); the label is the GM family (strings, brass ...);
instruments are split (not notes), so a held-out instrument is never heard in training."""
from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

from tqdm.auto import tqdm

from mmembed.manifest import split_of, write_manifest
from mmembed.packaged_data import unpack_debian_package

from .wording import a

FAMILIES = ("piano", "chromatic percussion", "organ", "guitar", "bass", "strings", "ensemble", "brass", "reed", "pipe",
            "synth lead", "synth pad", "synth effects", "ethnic", "percussive", "sound effects")
INSTRUMENTS = (
    "acoustic grand piano", "bright acoustic piano", "electric grand piano", "honky-tonk piano", "electric piano",
    "chorused electric piano", "harpsichord", "clavinet", "celesta", "glockenspiel", "music box", "vibraphone", "marimba",
    "xylophone", "tubular bells", "dulcimer", "drawbar organ", "percussive organ", "rock organ", "church organ",
    "reed organ", "accordion", "harmonica", "tango accordion", "nylon-string guitar", "steel-string guitar",
    "jazz guitar", "clean electric guitar", "muted electric guitar", "overdriven guitar", "distortion guitar",
    "guitar harmonics", "acoustic bass", "fingered electric bass", "picked electric bass", "fretless bass", "slap bass",
    "popped bass", "synth bass 1", "synth bass 2", "violin", "viola", "cello", "contrabass", "tremolo strings",
    "pizzicato strings", "orchestral harp", "timpani", "string ensemble", "slow string ensemble", "synth strings 1",
    "synth strings 2", "choir aahs", "voice oohs", "synth voice", "orchestra hit", "trumpet", "trombone", "tuba",
    "muted trumpet", "french horn", "brass section", "synth brass 1", "synth brass 2", "soprano sax", "alto sax",
    "tenor sax", "baritone sax", "oboe", "english horn", "bassoon", "clarinet", "piccolo", "flute", "recorder",
    "pan flute", "blown bottle", "shakuhachi", "whistle", "ocarina", "square wave lead", "sawtooth lead",
    "calliope lead", "chiff lead", "charang lead", "voice lead", "fifths lead", "bass and lead", "new age pad",
    "warm pad", "polysynth pad", "choir pad", "bowed pad", "metallic pad", "halo pad", "sweep pad", "rain effect",
    "soundtrack effect", "crystal effect", "atmosphere effect", "brightness effect", "goblins effect", "echoes effect",
    "sci-fi effect", "sitar", "banjo", "shamisen", "koto", "kalimba", "bagpipe", "fiddle", "shanai", "tinkle bell",
    "agogo", "steel drums", "woodblock", "taiko drum", "melodic tom", "synth drum", "reverse cymbal",
    "guitar fret noise", "breath noise", "seashore", "bird tweet", "telephone ring", "helicopter", "applause", "gunshot",
)
REGISTERS = {"low": 48, "middle": 60, "high": 72}  # MIDI notes C3, C4, C5


def one_note_midi(program: int, note: int, seconds: float = 1.5, velocity: int = 100) -> bytes:
    """A format-0 MIDI file: program change, one note held for ``seconds`` (480 ticks per beat at 120 bpm)."""
    def variable_length(value: int) -> bytes:
        out = [value & 0x7F]
        while value := value >> 7:
            out.append((value & 0x7F) | 0x80)
        return bytes(reversed(out))

    ticks = int(seconds * 960)
    events = (b"\x00" + bytes([0xC0, program]) + b"\x00" + bytes([0x90, note, velocity])
              + variable_length(ticks) + bytes([0x80, note, 0]) + b"\x00\xff\x2f\x00")
    return (b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk" + struct.pack(">I", len(events)) + events)


def soundfont(data_dir: Path) -> Path:
    installed = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
    if installed.is_file():
        return installed
    return unpack_debian_package("fluid-soundfont-gm", data_dir / "fluid-soundfont-gm") / "usr/share/sounds/sf2/FluidR3_GM.sf2"


def render(midi: bytes, sf2: Path, path: Path, rate: int = 16_000) -> Path:
    binary = shutil.which("fluidsynth")
    if not binary:
        raise FileNotFoundError("fluidsynth is needed to render instruments: apt-get install fluidsynth")
    path.parent.mkdir(parents=True, exist_ok=True)
    midi_path, tmp = path.with_suffix(".mid"), path.with_suffix(".tmp.wav")
    midi_path.write_bytes(midi)
    subprocess.run([binary, "-ni", "-q", "-g", "0.8", "-r", str(rate), "-F", str(tmp), str(sf2), str(midi_path)],
                   check=True, capture_output=True)
    midi_path.unlink()
    tmp.replace(path)
    return path


def instrument_rows(data_dir: Path, sf2: Path) -> list[dict]:
    rows = []
    for program, name in enumerate(tqdm(INSTRUMENTS, desc="instruments (fluidsynth)", unit="instrument")):
        split = split_of(f"gm-{program}")
        for register, note in REGISTERS.items():
            path = data_dir / "instruments" / f"{program:03d}-{register}.wav"
            if not path.is_file():
                render(one_note_midi(program, note), sf2, path)
            rows.append({"audio": str(path.relative_to(data_dir)), "text": f"{a(name).capitalize()} playing a {register} note.",
                         "split": split, "source": "instruments", "label": FAMILIES[program // 8]})
    return rows


def build_instruments_manifest(data_dir: Path) -> Path:
    data_dir = Path(data_dir).resolve()
    return write_manifest(data_dir / "instruments.jsonl", instrument_rows(data_dir, soundfont(data_dir)))
