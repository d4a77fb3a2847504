"""Direction run (not a shipped step): an image map fitted onto the default's final vectors, blended into its own.

g1.1's image vectors blend the LLM path with two tower shortcuts, each fitted in its own head's space. Here one linear
map from the image tower's mean-pooled features is fitted onto g1.1's final query vectors of the captions (the 1,280-d
primary + view concatenation, locked), on the image training pairs of the six trained sources (LiT's cached pairs,
400 steps of 1,024 pairs, as LiT fits), and blended into g1.1's own item vectors as normalize((1 - b) own + b map).
The table is mAP text -> image / image -> text on held-out splits at each b: a direction, no b is chosen here (a
shipped b would be chosen on rows no stage trained on, as the shortcut weights are).

    python scripts/final_space_map_direction.py > docs/results/final-space-map-direction.md
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from diagnose_media_path import fit_heads  # scripts/ is on the path of a script it runs

import mmembed
from mmembed.data.manifest import read_manifest
from mmembed.evaluation.peers import LiTPeer
from mmembed.evaluation.tasks import caption_retrieval

TRAINED = ["tuxpaint", "speech", "emoji", "fluent-emoji", "instruments", "tabler-icons"]
HELD_OUT = ["tabler-icons", "emoji", "fluent-emoji", "tuxpaint", "glyphs", "fashion-mnist"]
BLENDS = (0.0, 0.2, 0.35, 0.5, 1.0)


def main() -> None:
    rows = [r for s in TRAINED for r in read_manifest(f"data/{s}.jsonl", "train") if "image" in r or "audio" in r]
    lit = LiTPeer()
    media = lit.training_pairs(rows, "results/peer-cache")["image"][0]
    image_rows = [r for r in rows if "image" in r]
    assert len(image_rows) == len(media), "every training image decodes (LiT keeps the decodable ones in order)"
    model = mmembed.load("mmembed-default")
    captions = sorted({r["text"] for r in image_rows})
    vectors = model.encode(captions, instruction="query", batch_size=64)
    position = {c: i for i, c in enumerate(captions)}
    texts = torch.from_numpy(vectors[[position[r["text"]] for r in image_rows]])
    head = fit_heads(media, texts, text_head=False, batch_size=1024)[0]["media"]  # its "ours frozen" arm
    print("# A map onto the default's final vectors, blended into its image vectors (direction)\n")
    print("`python scripts/final_space_map_direction.py`; held-out mAP text -> image / image -> text.\n")
    print("| source | " + " | ".join(f"b = {b}" for b in BLENDS) + " |")
    print("|---|" + "---|" * len(BLENDS))
    for source in HELD_OUT:
        test = [r for r in read_manifest(f"data/{source}.jsonl", "test") if "image" in r]
        paths = [Path(r["image"]) for r in test]
        features, _ = lit.media_features(paths, progress=False)
        own = model.encode(paths, instruction="document", batch_size=32)
        keep = [i for i, f in enumerate(features) if f is not None and np.isfinite(own[i]).all()]
        test, own = [test[i] for i in keep], own[keep]
        with torch.no_grad():
            mapped = F.normalize(head(torch.from_numpy(np.stack([features[i] for i in keep]))), dim=-1).numpy()
        names = sorted({r["text"] for r in test})
        item_caption = np.array([names.index(r["text"]) for r in test])
        texts = model.encode(names, instruction="query", batch_size=64)
        cells = []
        for b in BLENDS:
            items = (1 - b) * own + b * mapped
            items /= np.linalg.norm(items, axis=1, keepdims=True)
            text_to_item, item_to_text = caption_retrieval(texts, items, item_caption)
            cells.append(f"{text_to_item['mAP']:.3f} / {item_to_text['mAP']:.3f}")
        print(f"| {source} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
