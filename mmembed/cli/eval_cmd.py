"""``mmembed eval``: quality figures of one or more models on a manifest, in one run."""
from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    evaluate = subparsers.add_parser("eval", help="evaluate models on a manifest (retrieval, zero-shot classification)")
    evaluate.add_argument("models", nargs="+", help="model folders or backbone names; NAME=PATH gives a row name")
    evaluate.add_argument("--data", required=True, help="a manifest (JSONL)")
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--task", action="append", choices=["retrieval", "zeroshot"], help="repeatable (default: both)")
    evaluate.add_argument("--modality", choices=["image", "audio"], default=None, help="only this modality (default: per modality)")
    evaluate.add_argument("--device", default=None)
    evaluate.add_argument("--out", default="results/eval", help="writes OUT.json and OUT.md")
    evaluate.set_defaults(handler=run_eval)


def run_eval(args) -> int:
    import mmembed

    from ..evaluation.report import markdown_table, write_results
    from ..evaluation.tasks import TASKS
    from ..manifest import read_manifest

    rows = read_manifest(args.data, args.split)
    modalities = [args.modality] if args.modality else sorted({k for row in rows for k in ("image", "audio") if k in row})
    results = {}
    for spec in args.models:
        name, _, source = spec.rpartition("=")
        name = name or Path(source).name
        model = mmembed.load(source, device=args.device)
        results[name] = {}
        for task in args.task or ["retrieval", "zeroshot"]:
            for modality in modalities:
                try:
                    results[name][f"{task}:{modality}"] = TASKS[task](model, rows, modality)
                except ValueError as error:
                    print(f"eval: {name} {task}:{modality} skipped: {error}")
    json_path, md_path = write_results(results, Path(args.out))
    print(markdown_table(results))
    print(f"wrote {json_path} and {md_path}")
    return 0
