"""How would STS move if a text's view share were another? A text's vector is its primary part (the LLM's state) and
its view part (a head fitted with a MiniLM teacher) side by side, each unit and weighted so that the cosine of two
texts is ``(1 - s) cos_primary + s cos_view`` at the view's text share ``s`` (0.5 in g1.1-g1.6). This reads both parts'
cosines of each scored pair once and prints Spearman and Pearson at every share, on selection rows (the train split
of WordNet-STS, which no stage trained on; the test split is not read), beside the shipped share. A measurement only:
the share is one number for every text, so a different one for STS would need a per-instruction share.

    python scripts/sts_share_sweep.py [mmembed-default] [--limit 500]
"""

import argparse

import numpy as np

import mmembed
from mmembed.data.manifest import read_manifest
from mmembed.evaluation.metrics import pearson, spearman

SHARES = tuple(round(0.1 * i, 1) for i in range(11))


def part_cosines(model, first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pair's cosine within the primary part (the first hidden-size entries) and within the view part."""

    def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)).clip(min=1e-12)

    cut = model.hidden_size
    return cosine(first[:, :cut], second[:, :cut]), cosine(first[:, cut:], second[:, cut:])


def main(model_name: str, limit: int) -> None:
    model = mmembed.load(model_name)
    if model.view is None:
        raise SystemExit(f"{model_name} has no view: a text is its primary vector alone, there is no share to move")
    rows = [r for r in read_manifest("data/wordnet-sts.jsonl", "train") if isinstance(r.get("pair"), str)][:limit]
    first = model.encode([r["text"] for r in rows], instruction="sts", show_progress_bar=True)
    second = model.encode([r["pair"] for r in rows], instruction="sts", show_progress_bar=True)
    primary, view = part_cosines(model, first, second)
    scores = [float(r["score"]) for r in rows]
    shipped = model.view.config.share(None)
    print(f"{model_name}: WordNet-STS train split, {len(rows)} scored pairs (selection rows), the `sts` instruction")
    print("| view share of a text | Spearman | Pearson |")
    print("|---|---|---|")
    for share in SHARES:
        cosine = (1 - share) * primary + share * view
        mark = " (shipped)" if abs(share - shipped) < 1e-9 else ""
        print(f"| {share}{mark} | {spearman(cosine, scores):.3f} | {pearson(cosine, scores):.3f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", default="mmembed-default")
    parser.add_argument("--limit", type=int, default=500, help="scored pairs of the train split (the first N)")
    arguments = parser.parse_args()
    main(arguments.model, arguments.limit)
