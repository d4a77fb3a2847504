"""Sonic Pi samples (Debian ``sonic-pi-samples``, CC0): 165 FLAC drum, ambient, bass, electronic, tabla... samples,
described from their file names (``bd_boom`` -> ``"A bass drum sound: boom."``, ``ambi_choir`` -> ``"An ambient
sound: choir."``), the family as label."""

from __future__ import annotations

from pathlib import Path

from ..manifest import split_of, write_manifest
from ..packaged import unpack_debian_package
from ..wording import a
from . import register

FAMILIES = {
    "ambi": "ambient",
    "bass": "bass",
    "bd": "bass drum",
    "drum": "drum",
    "elec": "electronic",
    "glitch": "glitch",
    "guit": "guitar",
    "loop": "drum loop",
    "mehackit": "synthesizer",
    "misc": "miscellaneous",
    "perc": "percussion",
    "sn": "snare drum",
    "tabla": "tabla",
    "vinyl": "vinyl record",
}


def describe(stem: str) -> tuple[str, str]:
    """(caption, family) from a sample's file name."""
    prefix, _, rest = stem.partition("_")
    family = FAMILIES.get(prefix, prefix)
    words = " ".join(w for w in rest.split("_") if w)
    caption = a(family).capitalize() + " sound"
    return (f"{caption}: {words}." if words else f"{caption}."), family


def sonic_pi_rows(samples: Path, data_dir: Path) -> list[dict]:
    rows = []
    for path in sorted(samples.glob("*.flac")):
        caption, family = describe(path.stem)
        rows.append(
            {
                "audio": str(path.relative_to(data_dir)),
                "text": caption,
                "split": split_of(path.stem),
                "source": "sonic-pi",
                "label": family,
            }
        )
    return rows


@register("sonic-pi")
def build_sonic_pi_manifest(data_dir: Path) -> Path:
    data_dir = Path(data_dir).resolve()
    root = unpack_debian_package("sonic-pi-samples", data_dir / "sonic-pi-samples")
    return write_manifest(data_dir / "sonic-pi.jsonl", sonic_pi_rows(root / "usr/share/sonic-pi/samples", data_dir))
