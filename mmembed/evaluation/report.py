"""Results as JSON and as a markdown table."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .uncertainty import Difference, Z, paired_against_first, without_samples

HEADLINE = {
    "retrieval": ("text_to_item", ["R@1", "R@5", "R@10", "mAP"]),
    "zeroshot": (None, ["accuracy"]),
    "text_retrieval": ("query_to_passage", ["R@1", "R@10", "nDCG@10", "MRR"]),
    "sts": (None, ["spearman", "pearson"]),
    "perplexity": (None, ["perplexity"]),
    "clustering": (None, ["v_measure"]),
}


def _figure(result: dict, direction: str | None, metric: str, key: str | None = None) -> float | None:
    value = result.get(direction, {}) if direction else result
    value = value.get(key, {}) if key else value
    return value.get(metric) if isinstance(value.get(metric), float) else None


def markdown_table(
    results: dict[str, dict], ratios_against: list[str] = (), paired: dict[str, list[Difference]] | None = None
) -> str:
    """results: {model name: {task: result}} -> one row per (task, direction, metric), one column per model; with
    ``ratios_against`` (peer names), a column per peer: the first model's figure over the peer's.

    Where the figures carry standard errors, a column gives the first model's 95 % half-width (``±``); where they kept
    their per-query samples, another model's figure is marked † when it differs from the first model's by more than
    the noise of a paired test (uncertainty.py; ``paired``: ``paired_against_first(results)``, when already
    computed), and a summary of those comparisons follows the table."""
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
    first = models[0]
    peers = [p for p in ratios_against if p in results and p != first]
    paired = {
        name: {(d.task, d.direction, d.metric): d for d in differences}
        for name, differences in (paired if paired is not None else paired_against_first(results)).items()
    }

    def figure(model, task, direction, metric, key=None):
        return _figure(results[model].get(task, {}), direction, metric, key)

    spread = any(figure(first, *row, key="stderr") is not None for row in rows)
    header = [first] + (["±"] if spread else []) + models[1:] + [f"{first} / {peer}" for peer in peers]
    lines = ["| task | " + " | ".join(header) + " |", "|---|" + "---|" * len(header)]
    for task, direction, metric in rows:
        cells = []
        for model in models:
            value = figure(model, task, direction, metric)
            difference = paired.get(model, {}).get((task, direction, metric))
            marker = "†" if difference is not None and difference.beyond_noise else ""
            cells.append(f"{value:.3f}{marker}" if value is not None else "")
            if model == first and spread:
                stderr = figure(first, task, direction, metric, key="stderr")
                cells.append(f"{Z * stderr:.3f}" if stderr is not None and math.isfinite(stderr) else "")
        ours = figure(first, task, direction, metric)
        for peer in peers:
            theirs = figure(peer, task, direction, metric)
            cells.append(f"{ours / theirs:.2f}" if ours is not None and theirs else "")
        label = " ".join(x for x in (task, direction.replace("_to_", "->") if direction else "", metric) if x)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    summary = paired_summary(paired, first, set(rows))
    return "\n".join(lines) + (f"\n\n{summary}" if summary else "")


def paired_summary(paired: dict[str, dict], first: str, shown: set) -> str:
    """A line per other model: on how many of the table's figures the first model is higher or lower, and on how many
    of those by more than the noise."""
    lines = []
    for name, differences in paired.items():
        table_figures = [d for key, d in differences.items() if key in shown]
        if not table_figures:
            continue
        higher = [d for d in table_figures if d.difference > 0]
        lower = [d for d in table_figures if d.difference < 0]
        lines.append(
            f"| {name} | {len(table_figures)} | {len(higher)} | {sum(d.beyond_noise for d in higher)} | {len(lower)} | "
            f"{sum(d.beyond_noise for d in lower)} | {len(table_figures) - len(higher) - len(lower)} |"
        )
    if not lines:
        return ""
    intro = (
        f"{first} against each other column on the same queries (paired; † above: the difference exceeds {Z} "
        "standard errors, about 95 %):"
    )
    header = f"| against | figures | {first} higher | beyond noise | lower | beyond noise | level |"
    return "\n".join([intro, "", header, "|---|---|---|---|---|---|---|", *lines])


def output_paths(out: Path) -> tuple[Path, Path]:
    """OUT.json and OUT.md (OUT's folder made): OUT's own dots stay (``bench-g1.3``: ``with_suffix`` would write
    ``bench-g1.json``); a .json or .md OUT names the pair too."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix in (".json", ".md"):
        out = out.with_suffix("")
    return out.parent / f"{out.name}.json", out.parent / f"{out.name}.md"


def write_results(results: dict, out: Path, ratios_against: list[str] = ()) -> tuple[Path, Path]:
    """OUT.json (the figures and their standard errors, without per-query samples), OUT.md (the table) and, where
    models could be paired, OUT-paired.json: the first model minus each other one, with standard errors."""
    json_path, md_path = output_paths(out)
    out = json_path.with_suffix("")
    json_path.write_text(json.dumps(without_samples(results), indent=2, default=str))
    paired = paired_against_first(results)
    md_path.write_text(markdown_table(results, ratios_against, paired) + "\n")
    if any(paired.values()):
        report = {
            "reference": next(iter(results)),
            "z": Z,
            "against": {name: [d.as_dict() for d in differences] for name, differences in paired.items()},
        }
        (out.parent / f"{out.name}-paired.json").write_text(json.dumps(report, indent=2))
    return json_path, md_path


def plot_figures(results: dict[str, dict], out_file: Path) -> Path:
    """One panel per (task, direction) with its first headline metric, one bar per model (whiskers: 95 % over the
    queries, where the figure has a standard error): the table at a glance."""
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
        values, spreads = [], []
        for model in models:
            result = results[model].get(task, {})
            values.append(_figure(result, direction, metric) or 0.0)
            stderr = _figure(result, direction, metric, key="stderr")
            spreads.append(Z * stderr if stderr is not None and math.isfinite(stderr) else 0.0)
        axis.bar(range(len(models)), values, yerr=spreads, capsize=2, color=[f"C{i}" for i in range(len(models))])
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
