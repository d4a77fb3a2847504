"""The LiT peer's fit settings (steps, batch size), chosen on its own training pairs, never on a test split.

The peers run fits LiT on the train splits of the six media sources (docs/results/peers-run-args.sh). Here a random
tenth of each modality's training pairs is held back, the heads are fitted on the rest under each setting, and both
directions' mAP is measured on the held-back tenth (a caption shared by several items is relevant to each). The
towers' features are read from the peer cache that the peers run fills (or computed once and kept there):

    python scripts/lit_fit_selection.py > docs/results/lit-fit-selection.md
"""

import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from mmembed.data.manifest import read_manifest
from mmembed.evaluation.metrics import retrieval_metrics
from mmembed.evaluation.peers import LiTPeer

SOURCES = ["tuxpaint", "speech", "emoji", "fluent-emoji", "instruments", "tabler-icons"]
SETTINGS = [(200, 1024), (400, 1024), (1000, 1024), (2000, 1024), (400, 256), (1000, 256), (400, 4096)]


def split_pairs(pairs: dict, share: float = 0.1, seed: int = 0) -> tuple[dict, dict]:
    generator = torch.Generator().manual_seed(seed)
    fit, held = {}, {}
    for kind, (media, text) in pairs.items():
        order = torch.randperm(len(media), generator=generator)
        cut = int(len(media) * share)
        held[kind], fit[kind] = (media[order[:cut]], text[order[:cut]]), (media[order[cut:]], text[order[cut:]])
    return fit, held


def caption_groups(text: torch.Tensor) -> np.ndarray:
    """Each row's caption id: rows whose caption vectors agree (cos > 0.9999) share a caption."""
    unit = F.normalize(text, dim=-1)
    same = (unit @ unit.T > 0.9999).numpy()
    return same.argmax(axis=1)  # the first row with the same caption names the group


def held_out_map(peer: LiTPeer, kind: str, media: torch.Tensor, text: torch.Tensor) -> tuple[float, float]:
    with torch.no_grad():
        items = F.normalize(peer.heads[kind](media), dim=-1).numpy()
        texts = F.normalize(peer.heads["text"](text), dim=-1).numpy()
    group = caption_groups(text)
    captions = sorted(set(group.tolist()))
    column = {g: j for j, g in enumerate(captions)}
    text_to_item = retrieval_metrics(texts[captions] @ items.T, [np.flatnonzero(group == g) for g in captions])
    item_to_text = retrieval_metrics(items @ texts[captions].T, [[column[g]] for g in group])
    return text_to_item["mAP"], item_to_text["mAP"]


def main() -> int:
    rows = [r for source in SOURCES for r in read_manifest(f"data/{source}.jsonl", "train")]
    rows = [r for r in rows if "image" in r or "audio" in r]
    peer = LiTPeer()
    fit, held = split_pairs(peer.training_pairs(rows, "results/peer-cache"))
    counts = ", ".join(f"{kind} {len(fit[kind][0])} fit / {len(held[kind][0])} held" for kind in fit)
    print(f"# LiT fit settings on held-back training pairs\n\n`python {' '.join(sys.argv)}`; {counts}.\n")
    print("| steps | batch | image t->i mAP | image i->t mAP | audio t->a mAP | audio a->t mAP | mean | fit s |")
    print("|---|---|---|---|---|---|---|---|")
    for steps, batch in SETTINGS:
        peer.steps, peer.batch_size = steps, batch
        start = time.perf_counter()
        peer.fit_heads(fit)
        seconds = time.perf_counter() - start
        figures = [value for kind in ("image", "audio") for value in held_out_map(peer, kind, *held[kind])]
        cells = " | ".join(f"{value:.3f}" for value in figures)
        print(f"| {steps} | {batch} | {cells} | {np.mean(figures):.3f} | {seconds:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
