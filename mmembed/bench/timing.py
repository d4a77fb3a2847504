"""Best-of-N wall-clock timing (the machines are shared, so the minimum is the honest figure)."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch


def best_of(function: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        function()
    best = float("inf")
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        function()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best
