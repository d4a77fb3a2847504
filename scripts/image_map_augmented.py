"""Does the final image map gain from more image-caption pairs drawn from the ones it has? Each fit image (the
non-check training pairs of the four image sources, as ``fit-shortcut --final`` fits the map) gets ``--views`` new
drawings of itself beside it, with its caption: Tabler's outline icons drawn again from their SVG at another stroke
width (1 to 3 px instead of 2), and every image shrunk onto a white canvas at a random place, sometimes turned a
little (never made grey: a flag's colours are what name it). The map (g1.6's: blocks 10, 14 and 15 of the image
summary beside the last layer, standardized in the summary, the MLP 2,048 wide) is fitted with and without them, on
the same seeds, and scored as the variants script scores it (``scripts/image_summary_variants.py``): the mean of both
directions' mAP per source on the check rows (held-out training captions) and on the selection rows (train splits of
glyphs and Fashion-MNIST, never trained on), at b = 0.5 and at the best b. The held-out test splits are not read.

The drawings are seeded per image and view, so a rerun draws the same ones; their tower features are cached in
runs/image-map-augmented/ (about 6 min per 10,000 drawings on 2 CPU cores), the rest reads the variants script's
caches. Usage:

    PYTHONPATH=. python scripts/image_map_augmented.py mmembed-multisource-g1.5 [--views 2] [--members 1]
"""

import argparse
import hashlib
import random
import re
from pathlib import Path

import torch
from PIL import Image
from safetensors.torch import load_file
from tqdm import tqdm

from encoders import ImageTowerConfig, open_image
from encoders.image_towers import EfficientNetLite0Tower
from mmembed.data.sources.tabler_icons import draw_svg
from scripts.image_summary_variants import (
    BLOCK_KEYS,
    fitted_variant,
    model_side,
    print_header,
    print_scores,
    saved,
    summary_parts,
    tower_features,
    variant_rows,
)

CACHE = Path("runs/image-map-augmented")
KEYS = BLOCK_KEYS[(10, 14, 15)]
STROKES = (1.0, 1.5, 2.5, 3.0)  # Tabler draws at 2


def seeded(path: str, view: int) -> random.Random:
    return random.Random(int(hashlib.sha256(f"{path}#{view}".encode()).hexdigest()[:16], 16))


def tabler_svg(path: str) -> Path | None:
    """The SVG an outline Tabler PNG was drawn from (data/tabler-icons/outline/x.png), or None."""
    match = re.fullmatch(r"(.*)/tabler-icons/outline/([^/]+)\.png", path)
    if not match:
        return None
    svg = Path(match[1]) / "tabler-icons-package" / "package" / "icons" / "outline" / f"{match[2]}.svg"
    return svg if svg.is_file() else None


def redraw_tabler(svg: Path, stroke: float) -> Image.Image:
    """The icon drawn as the tabler-icons source draws it, at another stroke width."""
    return draw_svg(svg.read_bytes().replace(b'stroke-width="2"', f'stroke-width="{stroke}"'.encode()))


def draw(path: str, view: int) -> Image.Image:
    """One seeded new drawing of the image at ``path``."""
    rng = seeded(path, view)
    svg = tabler_svg(path)
    image = redraw_tabler(svg, rng.choice(STROKES)) if svg else open_image(Path(path))
    side = max(image.size)
    canvas = Image.new("RGB", (side, side), "white")
    scale = rng.uniform(0.6, 1.0)
    small = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.BICUBIC)
    if rng.random() < 0.3:
        small = small.rotate(rng.uniform(-12, 12), Image.BICUBIC, expand=False, fillcolor="white")
    canvas.paste(small, (rng.randint(0, side - small.width), rng.randint(0, side - small.height)))
    return canvas


def drawing_features(paths: list[str], views: int) -> dict[str, torch.Tensor]:
    """KEYS' features of ``views`` drawings of each path, view-major (all paths' view 0, then view 1, ...)."""
    digest = hashlib.sha256("\n".join(paths).encode()).hexdigest()[:12]
    target = CACHE / f"features-{digest}-{views}.safetensors"
    if target.is_file():
        return load_file(str(target))
    blocks = (10, 14, 15)
    tower = EfficientNetLite0Tower(ImageTowerConfig(summary_blocks=blocks))
    jobs = [(p, v) for v in range(views) for p in paths]
    features: dict[str, list] = {}
    with torch.no_grad():
        for start in tqdm(range(0, len(jobs), 32), desc="drawings", unit="batch"):
            pixels = torch.stack([tower.preprocess(draw(p, v)) for p, v in jobs[start : start + 32]])
            grid, summary = tower.grid_and_summary(pixels)
            for key, value in summary_parts(grid, summary, blocks).items():
                features.setdefault(key, []).append(value)
    return saved(features, target)


def main(model_name: str, views: int, members: int, steps: int) -> None:
    rows, fitted, sets, paths = variant_rows()
    index = {p: i for i, p in enumerate(paths)}
    originals = {k: v for k, v in tower_features(paths).items() if k in KEYS}
    drawings = drawing_features([r["image"] for r in fitted], views)
    features = {k: torch.cat([originals[k], drawings[k]]) for k in KEYS}
    queries, sets, own = model_side(model_name, rows, sets)
    columns = {name: [index[r["image"]] for r in part] for name, part in (("fit", fitted), *sets.items())}
    drawn = [len(paths) + i for i in range(views * len(fitted))]  # view-major, as drawing_features lays them out
    captions = [r["text"] for r in fitted]
    maps = [(KEYS, "summary-z", steps, seed) for seed in range(members)]
    arms = {
        f"{members} map(s), {steps} steps, the fit images": (columns["fit"], captions),
        f"{members} map(s), {steps} steps, + {views} drawings of each": (
            columns["fit"] + drawn,
            captions * (1 + views),
        ),
    }
    print_header("fit rows", "pairs")
    for name, (fit_columns, fit_captions) in arms.items():
        texts = torch.stack([queries[c] for c in fit_captions]).float()
        _, mapped = fitted_variant(maps, features, fit_columns, texts, fit_captions)
        print_scores(name, len(fit_columns), mapped, sets, own, queries, columns)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", default="mmembed-multisource-g1.5")
    parser.add_argument("--views", type=int, default=2, help="new drawings per fit image")
    parser.add_argument("--members", type=int, default=1, help="maps per arm (seeds 0, 1, ...)")
    parser.add_argument("--steps", type=int, default=400, help="steps per map")
    arguments = parser.parse_args()
    main(arguments.model, arguments.views, arguments.members, arguments.steps)
