"""Which examples make each step's batch. Deterministic from (seed, step), so a resumed run sees the same batches.

- ``mixed``: epoch permutations over all examples; a batch mixes every source.
- ``by_source``: each batch comes from one source (the rows' ``source``, else the manifest's name), the source drawn
  per step with the configured shares. The in-batch negatives are then the same kind of thing as the positive (emoji
  against emoji, not emoji against WordNet glosses), so no batch is won by telling modalities or sources apart — the
  task-homogeneous batching of E5/GTE-style multi-source training. A heavier share for a source also keeps it from
  being forgotten when a trained model continues on new ones."""

from __future__ import annotations

import numpy as np

BATCHINGS = ("mixed", "by_source")


def check_batching(mode: str) -> None:
    if mode not in BATCHINGS:
        raise ValueError(f"batching must be one of {BATCHINGS}, got {mode!r}")


def batch_indices(count: int, batch_size: int, seed: int, step: int) -> list[int]:
    """The ``step``-th batch of epoch permutations of ``range(count)``."""
    per_epoch = max(1, count // batch_size)
    epoch, offset = divmod(step, per_epoch)
    order = np.random.default_rng(seed + epoch).permutation(count)
    return order[offset * batch_size : (offset + 1) * batch_size].tolist()


def check_source_weights(sources, weights: dict[str, float] | None) -> None:
    """``source_weights`` must name exactly the training sources, with shares >= 0 and a positive sum."""
    if weights is None:
        return
    names = sorted(set(sources))
    unknown, missing = sorted(set(weights) - set(names)), sorted(set(names) - set(weights))
    if unknown or missing:
        raise ValueError(
            f"source_weights must name every training source {names}: unknown {unknown}, missing {missing}"
        )
    if any(weights[name] < 0 for name in names) or not sum(weights.values()) > 0:
        raise ValueError(f"source_weights must be >= 0 with a positive sum, got {weights}")


class BatchPlan:
    def __init__(
        self,
        sources: list[str],
        batch_size: int,
        seed: int,
        steps: int,
        mode: str = "mixed",
        weights: dict[str, float] | None = None,
    ):
        check_batching(mode)
        self.count, self.batch_size, self.seed, self.mode = len(sources), batch_size, seed, mode
        self.names = sorted(set(sources))
        self.members = {name: [i for i, source in enumerate(sources) if source == name] for name in self.names}
        check_source_weights(self.names, weights)
        shares = np.array([weights[name] if weights else len(self.members[name]) for name in self.names], dtype=float)
        self.shares = dict(zip(self.names, shares / shares.sum()))
        self.schedule = np.random.default_rng(seed).choice(len(self.names), size=max(steps, 1), p=shares / shares.sum())
        seen: dict[int, int] = {}
        self.occurrence = []
        for source in self.schedule:
            self.occurrence.append(seen.get(source, 0))
            seen[source] = self.occurrence[-1] + 1

    def source(self, step: int) -> str | None:
        return self.names[self.schedule[step]] if self.mode == "by_source" else None

    def indices(self, step: int) -> list[int]:
        if self.mode == "mixed":
            return batch_indices(self.count, self.batch_size, self.seed, step)
        number = int(self.schedule[step])
        members = self.members[self.names[number]]
        local = batch_indices(len(members), self.batch_size, self.seed + 7919 * (number + 1), self.occurrence[step])
        return [members[i] for i in local]
