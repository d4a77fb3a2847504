"""Results as JSON and as a markdown table."""

from __future__ import annotations

import json
from pathlib import Path

HEADLINE = {
    "retrieval": ("text_to_item", ["R@1", "R@5", "R@10", "mAP"]),
    "zeroshot": (None, ["accuracy"]),
    "text_retrieval": ("query_to_passage", ["R@1", "R@10", "nDCG@10", "MRR"]),
    "sts": (None, ["spearman", "pearson"]),
    "perplexity": (None, ["perplexity"]),
    "clustering": (None, ["v_measure"]),
}


def markdown_table(results: dict[str, dict], ratios_against: list[str] = ()) -> str:
    """results: {model name: {task: result}} -> one row per (task, direction, metric), one column per model; with
    ``ratios_against`` (peer names), a column per peer: the first model's figure over the peer's."""
    rows = []
    for model_results in results.values():
        for task in model_results:
            direction, metrics = HEADLINE.get(task.split(":")[0], (None, []))
            directions = [direction, "item_to_text"] if direction == "text_to_item" else [direction]
            for direction_name in directions:
                for metric in metrics:
                    if (task, direction_name, metric) not in rows:
                        rows.append((task, direction_name, metric))
    models = list(results)
    peers = [p for p in ratios_against if p in results and p != models[0]]
    header = models + [f"{models[0]} / {peer}" for peer in peers]
    lines = ["| task | " + " | ".join(header) + " |", "|---|" + "---|" * len(header)]

    def figure(model, task, direction, metric):
        value = results[model].get(task, {})
        value = value.get(direction, {}) if direction else value
        return value.get(metric) if isinstance(value.get(metric), float) else None

    for task, direction, metric in rows:
        cells = [f"{v:.3f}" if (v := figure(m, task, direction, metric)) is not None else "" for m in models]
        ours = figure(models[0], task, direction, metric)
        for peer in peers:
            theirs = figure(peer, task, direction, metric)
            cells.append(f"{ours / theirs:.2f}" if ours is not None and theirs else "")
        label = " ".join(x for x in (task, direction.replace("_to_", "->") if direction else "", metric) if x)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_results(results: dict, out: Path, ratios_against: list[str] = ()) -> tuple[Path, Path]:
    out.parent.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out.with_suffix(".json"), out.with_suffix(".md")
    json_path.write_text(json.dumps(results, indent=2, default=str))
    md_path.write_text(markdown_table(results, ratios_against) + "\n")
    return json_path, md_path


def plot_figures(results: dict[str, dict], out_file: Path) -> Path:
    """One panel per (task, direction) with its first headline metric, one bar per model: the table at a glance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = []
    for model_results in results.values():
        for task in model_results:
            direction, metrics = HEADLINE.get(task.split(":")[0], (None, []))
            for name in [direction, "item_to_text"] if direction == "text_to_item" else [direction]:
                if metrics and (task, name, metrics[0]) not in panels:
                    panels.append((task, name, metrics[0]))
    if not panels:
        raise ValueError("no figures to plot")
    models = list(results)
    columns = min(4, len(panels))
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.4 * columns, 2.8 * rows), squeeze=False)
    for axis, (task, direction, metric) in zip(axes.flat, panels):
        values = []
        for model in models:
            value = results[model].get(task, {})
            value = value.get(direction, {}) if direction else value
            values.append(value.get(metric) if isinstance(value.get(metric), float) else 0.0)
        axis.bar(range(len(models)), values, color=[f"C{i}" for i in range(len(models))])
        axis.set_xticks(range(len(models)), models, rotation=35, ha="right", fontsize=7)
        axis.set_title(
            f"{task} {direction.replace('_to_', '->') if direction else ''} {metric}".replace("  ", " "), fontsize=8
        )
        axis.grid(axis="y", alpha=0.3)
    for axis in list(axes.flat)[len(panels) :]:
        axis.axis("off")
    figure.tight_layout()
    out_file.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out_file, dpi=110)
    plt.close(figure)
    return out_file
