"""Is a source's gap to the LiT peer in our text space or in our media path (projector -> soft tokens -> LLM)?

On one source's train split, linear heads are fitted (CLIP loss, 400 steps, full batch as the LiT peer fitted up to
2026-12, or batches of the third argument's size as it fits now) on the frozen tower features the LiT peer reads,
against three text sides, and scored on the held-out split:

- ``MiniLM + head``: the LiT peer itself (all-MiniLM-L6-v2 and a text head);
- ``ours + head``: the model's own query vectors of the captions, with a text head;
- ``ours frozen``: the model's own query vectors as they are (only the media head learns: what a media path that
  lands exactly on our text space could reach).

Beside them the model's own end-to-end figure. Usage (README, "The tower shortcut"):

    python scripts/diagnose_media_path.py tabler-icons mmembed-multisource-v5
    python scripts/diagnose_media_path.py tabler-icons mmembed-default 1024   # heads fitted as LiT now is
"""

import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import mmembed
from mmembed.contrastive import symmetric_clip_loss
from mmembed.data.manifest import read_manifest
from mmembed.evaluation.lit_peer import endless_batches
from mmembed.evaluation.peers import LiTPeer, MiniLMPeer
from mmembed.evaluation.tasks import caption_retrieval


def media_rows(source: str, split: str) -> list[dict]:
    return [r for r in read_manifest(f"data/{source}.jsonl", split) if "image" in r or "audio" in r]


def media_path(row: dict) -> Path:
    return Path(row.get("image") or row.get("audio"))


def tower_features(lit: LiTPeer, rows: list[dict]) -> tuple[torch.Tensor, list[dict]]:
    features, _ = lit.media_features([media_path(r) for r in rows])
    keep = [i for i, x in enumerate(features) if x is not None]
    return torch.from_numpy(np.stack([features[i] for i in keep])), [rows[i] for i in keep]


def fit_heads(media: torch.Tensor, texts: torch.Tensor, text_head: bool, batch_size: int | None, steps: int = 400):
    """Linear heads by the CLIP loss, 400 Adam steps on batches of ``batch_size`` pairs (None: every pair)."""
    torch.manual_seed(0)
    heads = {"media": torch.nn.Linear(media.shape[1], 256 if text_head else texts.shape[1])}
    if text_head:
        heads["text"] = torch.nn.Linear(texts.shape[1], 256)
    log_scale = torch.nn.Parameter(torch.tensor(np.log(1 / 0.07), dtype=torch.float32))
    optimizer = torch.optim.Adam([p for h in heads.values() for p in h.parameters()] + [log_scale], lr=1e-3)
    batches = endless_batches(len(media), batch_size or len(media), torch.Generator().manual_seed(0))

    def text_side(t):
        return F.normalize(heads["text"](t) if text_head else t, dim=-1)

    for _ in range(steps):
        pick = next(batches)
        items = F.normalize(heads["media"](media[pick]), dim=-1)
        loss = symmetric_clip_loss(items, text_side(texts[pick]), log_scale.exp().clamp(max=100))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return heads, text_side


def main(source: str, model_name: str, batch_size: int | None = None) -> None:
    lit = LiTPeer()
    train_features, train = tower_features(lit, media_rows(source, "train"))
    test_features, test = tower_features(lit, media_rows(source, "test"))
    model = mmembed.load(model_name)
    captions = sorted({r["text"] for r in test})
    caption_of_item = np.array([captions.index(r["text"]) for r in test])

    items = model.encode([media_path(r) for r in test], instruction="document", batch_size=32)
    t2i, i2t = caption_retrieval(model.encode(captions, instruction="query"), items, caption_of_item)
    print(f"{source} ours end-to-end: t2i mAP {t2i['mAP']:.3f} i2t mAP {i2t['mAP']:.3f}", flush=True)

    def ours(texts):
        return torch.from_numpy(model.encode(texts, instruction="query", batch_size=64))

    def minilm(texts):
        return torch.from_numpy(MiniLMPeer().encode(texts))

    for name, encode, text_head in [
        ("MiniLM + head (LiT)", minilm, True),
        ("ours + head", ours, True),
        ("ours frozen", ours, False),
    ]:
        heads, text_side = fit_heads(train_features, encode([r["text"] for r in train]), text_head, batch_size)
        with torch.no_grad():
            texts = text_side(encode(captions)).numpy()
            media = F.normalize(heads["media"](test_features), dim=-1).numpy()
        t2i, i2t = caption_retrieval(texts, media, caption_of_item)
        print(f"{source} {name}: t2i mAP {t2i['mAP']:.3f} i2t mAP {i2t['mAP']:.3f}", flush=True)


if __name__ == "__main__":
    main(
        sys.argv[1],
        sys.argv[2] if len(sys.argv) > 2 else "mmembed-default",
        int(sys.argv[3]) if len(sys.argv) > 3 else None,
    )
