"""``mmembed eval``: quality figures of one or more models on a manifest, in one run."""
from __future__ import annotations

from pathlib import Path

from .common import positive_int


def register(subparsers) -> None:
    evaluate = subparsers.add_parser("eval", help="evaluate models on a manifest (retrieval, zero-shot classification)")
    evaluate.add_argument("models", nargs="+", help="model folders or backbone names; NAME=PATH gives a row name")
    evaluate.add_argument("--data", required=True, action="append", help="a manifest (JSONL); repeat to evaluate on several")
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--task", action="append", choices=["retrieval", "zeroshot", "text_retrieval", "sts", "perplexity", "clustering"],
                          help="repeatable (default: retrieval and zeroshot; text_retrieval / sts for text-pair / scored-pair data)")
    evaluate.add_argument("--baselines", nargs="*", default=[], choices=["minilm", "mpnet", "lit", "asr"],
                          help="peers measured in the same run (lit trains its heads on the manifest's train split)")
    evaluate.add_argument("--fit-data", action="append", default=None,
                          help="the manifest(s) whose train split fits trainable peers (lit); default: the --data manifests. "
                               "Give the data our model was trained on, for equal conditions")
    evaluate.add_argument("--per-source", action="store_true", help="one result per data source (the rows' \"source\"), not one for all rows pooled")
    evaluate.add_argument("--limit", type=positive_int, default=1000, help="at most this many text pairs")
    evaluate.add_argument("--plot", action="store_true", help="also draw each model's shared space (PCA) as OUT-MODEL-space.png and the figures as OUT-figures.png")
    evaluate.add_argument("--modality", choices=["image", "audio"], default=None, help="only this modality (default: per modality)")
    evaluate.add_argument("--device", default=None)
    evaluate.add_argument("--out", default="results/eval", help="writes OUT.json and OUT.md")
    evaluate.set_defaults(handler=run_eval)


def run_eval(args) -> int:
    import mmembed

    from ..evaluation.report import markdown_table, write_results
    from ..evaluation.tasks import TASKS, TEXT_TASKS
    from ..data import read_manifest

    rows = [row for data in args.data for row in read_manifest(data, args.split)]
    modalities = [args.modality] if args.modality else sorted({k for row in rows for k in ("image", "audio") if k in row})
    from ..evaluation.peers import PEERS

    models = []
    for spec in args.models:
        name, _, source = spec.rpartition("=")
        models.append((name or Path(source).name, lambda source=source: mmembed.load(source, device=args.device)))
    train_rows = [row for data in (args.fit_data or args.data) for row in read_manifest(data, "train")]
    models += [(PEERS[peer].name, (lambda peer=peer: PEERS[peer]().fit(train_rows) if hasattr(PEERS[peer], "fit") else PEERS[peer]()))
               for peer in args.baselines]
    groups = {"": rows}
    if args.per_source:  # instead of one pool of every source's rows
        groups = {}
        for row in rows:
            groups.setdefault(f"@{row.get('source', 'unknown')}", []).append(row)
    results = {}
    for name, make in models:
        model = make()
        results[name] = {}
        for task in args.task or ["retrieval", "zeroshot"]:
            for modality in (["text"] if task in TEXT_TASKS else modalities):
                options = {"limit": args.limit} if task in TEXT_TASKS else {}
                for group, group_rows in groups.items():
                    try:
                        results[name][f"{task}:{modality}{group}"] = TASKS[task](model, group_rows, None if modality == "text" else modality, **options)
                    except ValueError as error:
                        print(f"eval: {name} {task}:{modality}{group} skipped: {error}")
        if args.plot and hasattr(model, "modalities"):
            from ..evaluation.projection import plot_space

            try:
                print(f"eval: wrote {plot_space(model, rows, Path(f'{args.out}-{name}-space.png'))}")
            except ValueError as error:
                print(f"eval: no plot for {name}: {error}")
    peers = [PEERS[peer].name for peer in args.baselines]
    json_path, md_path = write_results(results, Path(args.out), peers)
    print(markdown_table(results, peers))
    print(f"wrote {json_path} and {md_path}")
    if args.plot:
        from ..evaluation.report import plot_figures

        print(f"eval: wrote {plot_figures(results, Path(f'{args.out}-figures.png'))}")
    return 0
