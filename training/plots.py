"""Loss curves as PNG, from the metrics log."""
from __future__ import annotations

import json
from pathlib import Path


def plot_metrics(metrics_file: Path, out_file: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in metrics_file.read_text().splitlines() if line.strip()]
    keys = [k for k in rows[0] if k not in ("step", "seconds", "lr")] if rows else []
    figure, axes = plt.subplots(1, max(1, len(keys)), figsize=(4 * max(1, len(keys)), 3.2))
    for axis, key in zip(axes if len(keys) > 1 else [axes], keys):
        axis.plot([r["step"] for r in rows if key in r], [r[key] for r in rows if key in r])
        axis.set_title(key)
        axis.set_xlabel("step")
        axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(out_file, dpi=100)
    plt.close(figure)
    return out_file
