"""Loss curves as PNG, from the metrics log."""

from __future__ import annotations

import json
from pathlib import Path


def plot_metrics(metrics_file: Path, out_file: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in metrics_file.read_text().splitlines() if line.strip()]
    keys = (
        [
            k
            for k, v in rows[0].items()
            if k not in ("step", "seconds", "lr", "world_size") and isinstance(v, (int, float))
        ]
        if rows
        else []
    )
    sources = sorted({r["source"] for r in rows if "source" in r})  # by_source batching: one line per source
    figure, axes = plt.subplots(1, max(1, len(keys)), figsize=(4 * max(1, len(keys)), 3.2))
    for axis, key in zip(axes if len(keys) > 1 else [axes], keys):
        split = sources and key != "temperature"  # a shared parameter: one line
        for source in sources if split else [None]:
            chosen = [r for r in rows if key in r and (source is None or r.get("source") == source)]
            axis.plot(
                [r["step"] for r in chosen],
                [r[key] for r in chosen],
                label=source,
                marker="." if source else None,
                linewidth=0.8 if source else 1.5,
            )
        if split:
            axis.legend(fontsize=7)
        axis.set_title(key)
        axis.set_xlabel("step")
        axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(out_file, dpi=100)
    plt.close(figure)
    return out_file
