"""Can anything fitted on a model's frozen text states close its text gap, or must the LLM train?

Two probes on WordNet (held-out: 1,000 "What is X?" -> "X: gloss" queries, R@1 against every passage; WordNet-STS
Spearman), both on the model's states before any output head or view:

- ``layers``: each layer's mean-pooled states (the final RMSNorm applied, then per-dimension standardised), as a
  head reading another layer would see them;
- ``ridge N``: a linear map from the centered last-layer states onto all-MiniLM-L6-v2's unit vectors, fitted by
  ridge regression on N WordNet train pairs (queries and passages), at several strengths: the best a linear head
  distilled from the teacher could do.

Usage (README, "A text teacher inside LoRA training (v8 direction)"):

    python scripts/probe_text_states.py mmembed-multisource-v6.1 layers
    python scripts/probe_text_states.py mmembed-multisource-v6.1 ridge 8000
"""

import sys

import numpy as np
import torch

import mmembed
from mmembed.batching import collate, length_sorted_batches
from mmembed.data import read_manifest
from mmembed.evaluation.metrics import retrieval_metrics, spearman
from mmembed.pooling import pool


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def layer_states(embedder, texts: list[str], instruction: str) -> torch.Tensor:
    """(layers + 1, N, D) mean-pooled states of every layer, through the final norm."""
    sequences = embedder.sequences.build([(t, None, None) for t in texts], instruction)
    out = None
    with torch.inference_mode():
        for indices in length_sorted_batches([len(s.ids) for s in sequences], 32):
            batch = collate([sequences[i] for i in indices], embedder.pad_id)
            hidden = embedder.decoder(
                input_ids=batch.input_ids, attention_mask=batch.attention_mask, output_hidden_states=True
            ).hidden_states
            norm = embedder.decoder.norm
            pooled = torch.stack([pool(norm(h), batch.pool_mask, batch.last_index, "mean").float() for h in hidden])
            out = torch.empty(pooled.shape[0], len(texts), pooled.shape[-1]) if out is None else out
            out[:, indices] = pooled
    return out


def main(name: str, probe: str, count: int = 8000) -> None:
    embedder = mmembed.load(name)
    test = read_manifest("data/wordnet.jsonl", "test")[:1000]
    sts = read_manifest("data/wordnet-sts.jsonl", "test")[:1000]
    passages = sorted({r["positive"] for r in test})
    position = {passage: i for i, passage in enumerate(passages)}
    relevant = [{position[r["positive"]]} for r in test]
    scores = [r["score"] for r in sts]

    def report(tag, q, d, a, b):
        metrics = retrieval_metrics(unit(q) @ unit(d).T, relevant)
        cosine = (unit(a) * unit(b)).sum(1)
        print(f"{tag}: WordNet R@1 {metrics['R@1']:.3f}  STS Spearman {spearman(cosine, scores):.3f}", flush=True)

    sides = [([r["text"] for r in test], "query"), (passages, "document")]
    sides += [([r["text"] for r in sts], "sts"), ([r["pair"] for r in sts], "sts")]
    if probe == "layers":
        q, d, a, b = (layer_states(embedder, texts, instruction) for texts, instruction in sides)
        for layer in range(q.shape[0]):
            both = [torch.cat([q[layer], d[layer]]), torch.cat([a[layer], b[layer]])]
            both = [((x - x.mean(0)) / x.std(0).clamp_min(1e-6)).numpy() for x in both]
            report(
                f"layer {layer}", both[0][: len(test)], both[0][len(test) :], both[1][: len(sts)], both[1][len(sts) :]
            )
        return
    from mmembed.evaluation.peers import MiniLMPeer

    teacher = MiniLMPeer()
    train = read_manifest("data/wordnet.jsonl", "train")
    train = [train[i] for i in np.random.default_rng(0).choice(len(train), count, replace=False)]
    pairs = [([r["text"] for r in train], "query"), ([r["positive"] for r in train], "document")]
    x = unit(np.concatenate([embedder.encode(t, instruction=i, normalize=False, batch_size=64) for t, i in pairs]))
    y = unit(np.concatenate([teacher.encode(t) for t, _ in pairs]))
    q, d, a, b = (embedder.encode(t, instruction=i, normalize=False, batch_size=64) for t, i in sides)
    report("states", q, d, a, b)
    report("MiniLM", *(teacher.encode(t) for t, _ in sides))
    for strength in (0.01, 0.1, 1.0, 10.0):
        w = np.linalg.solve(x.T @ x + strength * np.eye(x.shape[1]), x.T @ y)
        report(f"ridge {strength}", *(unit(v) @ w for v in (q, d, a, b)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:]))
