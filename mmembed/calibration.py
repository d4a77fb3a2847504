"""Calibrated relevance: a cosine from this model turned into the probability that a hit is relevant, per pair of
modalities (``text->image``, ``audio->text``, ...). A raw cosine means different things for different pairs and
models; a probability lets search say "no good match" instead of listing the nearest grapes for "snow".

Each map is Platt scaling, ``p = sigmoid(slope * cosine + intercept)``, fitted on held-out pairs
(``mmembed calibrate``, mmembed/evaluation/calibration.py) over the top hits of each query, so it answers "is this
hit, among the nearest ones, relevant?". Saved beside the model as ``calibration.json``; vectors do not depend on it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class PlattScale:
    slope: float
    intercept: float

    def probability(self, cosine: float) -> float:
        z = self.slope * float(cosine) + self.intercept
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


@dataclass
class Calibration:
    maps: dict[str, PlattScale] = field(default_factory=dict)  # "query_kind->item_kind"
    threshold: float = 0.5  # a hit below this relevance is not a good match
    fitted_on: dict = field(default_factory=dict)  # what each map was fitted and checked on (pairs, ECE, ...)

    @staticmethod
    def pair(query_kind: str, item_kind: str) -> str:
        return f"{query_kind}->{item_kind}"

    def relevance(self, cosine: float, query_kind: str, item_kind: str) -> float | None:
        """The probability that a hit is relevant, or None where this pair of modalities was never calibrated."""
        scale = self.maps.get(self.pair(query_kind, item_kind))
        return None if scale is None else scale.probability(cosine)

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / CALIBRATION_FILE
        body = {
            "threshold": self.threshold,
            "maps": {k: asdict(v) for k, v in sorted(self.maps.items())},
            "fitted_on": self.fitted_on,
        }
        path.write_text(json.dumps(body, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, folder: str | Path) -> Calibration | None:
        path = Path(folder) / CALIBRATION_FILE
        if not path.is_file():
            return None
        body = json.loads(path.read_text())
        maps = {key: PlattScale(float(v["slope"]), float(v["intercept"])) for key, v in body.get("maps", {}).items()}
        return cls(maps, float(body.get("threshold", 0.5)), body.get("fitted_on", {}))
