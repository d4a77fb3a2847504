"""Results as JSON and as a markdown table."""
from __future__ import annotations

import json
from pathlib import Path

HEADLINE = {"retrieval": ("text_to_item", ["R@1", "R@5", "R@10", "mAP"]), "zeroshot": (None, ["accuracy"]),
            "text_retrieval": ("query_to_passage", ["R@1", "R@10", "nDCG@10", "MRR"]), "clustering": (None, ["v_measure"])}


def markdown_table(results: dict[str, dict]) -> str:
    """results: {model name: {task: result}} -> one row per (task, direction, metric), one column per model."""
    rows = []
    for model_results in results.values():
        for task, result in model_results.items():
            direction, metrics = HEADLINE.get(task.split(":")[0], (None, []))
            directions = [direction, "item_to_text"] if direction == "text_to_item" else [direction]
            for direction_name in directions:
                for metric in metrics:
                    if (task, direction_name, metric) not in rows:
                        rows.append((task, direction_name, metric))
    models = list(results)
    lines = ["| task | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]
    for task, direction, metric in rows:
        cells = []
        for model in models:
            value = results[model].get(task, {})
            value = value.get(direction, {}) if direction else value
            cells.append(f"{value[metric]:.3f}" if isinstance(value.get(metric), float) else "")
        label = " ".join(x for x in (task, direction.replace("_to_", "->") if direction else "", metric) if x)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_results(results: dict, out: Path) -> tuple[Path, Path]:
    out.parent.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out.with_suffix(".json"), out.with_suffix(".md")
    json_path.write_text(json.dumps(results, indent=2, default=str))
    md_path.write_text(markdown_table(results) + "\n")
    return json_path, md_path
