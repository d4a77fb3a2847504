"""Do a model's held-out handwritten digits (the digits source's test split) find their own caption, drawn as scanned
(white ink on black, as the source writes them and as g1.7's image maps were fitted) and inverted (black ink on
white, as a user draws one)? Prints, per model, the share of digits whose top caption among the ten is their own.

    PYTHONPATH=. python scripts/digits_polarity.py mmembed-multisource-g1.7 mmembed-multisource-g1.6
"""

import sys

import numpy as np
from PIL import Image, ImageOps

import mmembed
from mmembed.data.manifest import read_manifest
from mmembed.data.sources.digits import NAMES, caption


def main(models: list[str]) -> None:
    rows = read_manifest("data/digits.jsonl", "test")
    truth = np.array([NAMES.index(r["label"]) for r in rows])
    scans = [Image.open(r["image"]).convert("L") for r in rows]
    drawings = {"as scanned": scans, "inverted": [ImageOps.invert(image) for image in scans]}
    print(f"{len(rows)} held-out digits, the share whose own caption is on top (chance 0.1):\n")
    print(f"| model | {' | '.join(drawings)} |")
    print("|---|" + "---|" * len(drawings))
    for name in models:
        model = mmembed.load(name, device="cpu")
        captions = model.encode([caption(d) for d in range(10)], instruction="query")
        found = []
        for images in drawings.values():
            vectors = model.encode(images, instruction="document")
            found.append(float(np.mean((vectors @ captions.T).argmax(1) == truth)))
        print(f"| {name} | " + " | ".join(f"{f:.3f}" for f in found) + " |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["mmembed-multisource-g1.7", "mmembed-multisource-g1.6"])
