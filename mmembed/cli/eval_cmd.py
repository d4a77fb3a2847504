"""``mmembed eval`` and ``mmembed eval-rag``: thin shells over mmembed.evaluation."""

from __future__ import annotations

from pathlib import Path

from .common import positive_int, unit_fraction


def register(subparsers) -> None:
    evaluate = subparsers.add_parser("eval", help="evaluate models on a manifest (retrieval, zero-shot classification)")
    evaluate.add_argument("models", nargs="+", help="model folders or backbone names; NAME=PATH gives a row name")
    evaluate.add_argument(
        "--data", required=True, action="append", help="a manifest (JSONL); repeat to evaluate on several"
    )
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument(
        "--task",
        action="append",
        choices=["retrieval", "zeroshot", "text_retrieval", "sts", "perplexity", "clustering"],
        help="repeatable (default: retrieval and zeroshot; text_retrieval / sts for text-pair / scored-pair data)",
    )
    evaluate.add_argument(
        "--baselines",
        nargs="*",
        default=[],
        choices=["minilm", "mpnet", "lit", "asr"],
        help="peers measured in the same run (lit trains its heads on the manifest's train split)",
    )
    evaluate.add_argument(
        "--fit-data",
        action="append",
        default=None,
        help="the manifest(s) whose train split fits trainable peers (lit); default: the --data manifests. "
        "Give the data our model was trained on, for equal conditions",
    )
    evaluate.add_argument(
        "--per-source",
        action="store_true",
        help='one result per data source (the rows\' "source"), not one for all rows pooled',
    )
    evaluate.add_argument("--limit", type=positive_int, default=1000, help="at most this many text pairs")
    evaluate.add_argument(
        "--plot",
        action="store_true",
        help="also draw each model's shared space (PCA) as OUT-MODEL-space.png and the figures as OUT-figures.png",
    )
    evaluate.add_argument(
        "--modality", choices=["image", "audio"], default=None, help="only this modality (default: per modality)"
    )
    evaluate.add_argument(
        "--ensemble",
        nargs=2,
        action="append",
        default=[],
        metavar="NAME",
        help="also evaluate the score-level ensemble of two of the models (their row names): vectors side by side, "
        "cosine = (1 - S) x the first's + S x the second's; each model encodes once; repeatable",
    )
    evaluate.add_argument(
        "--ensemble-share",
        nargs="+",
        type=unit_fraction,
        default=[0.5],
        metavar="S",
        help="the second model's share S of each ensemble's cosine, one row per share (default 0.5)",
    )
    evaluate.add_argument(
        "--ensemble-media-share",
        nargs="+",
        type=unit_fraction,
        default=[None],
        metavar="M",
        help="media items' own share M (a text and an item score sqrt((1-S)(1-M)) cos_A + sqrt(SM) cos_B; M = 0: "
        "items rank by the first model alone), one row per S and M (default: M = S)",
    )
    evaluate.add_argument("--device", default=None)
    evaluate.add_argument("--out", default="results/eval", help="writes OUT.json and OUT.md")
    evaluate.add_argument(
        "--peer-cache",
        default="results/peer-cache",
        help="where LiT keeps its fitted heads, keyed by its settings, towers and training pairs (a re-run on the "
        "same rows reads them instead of refitting; '' refits every run)",
    )
    evaluate.set_defaults(handler=run_eval)

    rag = subparsers.add_parser(
        "eval-rag", help="one-model RAG vs MiniLM retriever + the same generator: hit@k, fact hit, time, peak memory"
    )
    rag.add_argument("-k", type=positive_int, default=3)
    rag.add_argument("--questions", type=positive_int, default=30)
    rag.add_argument(
        "--model",
        action="append",
        help="repeatable: each model retrieves + generates in its own row "
        "(default: the shipped default); the MiniLM row uses the first as "
        "generator",
    )
    rag.set_defaults(handler=run_rag)


def run_eval(args) -> int:
    from ..evaluation import evaluate
    from ..evaluation.peers import PEERS
    from ..evaluation.report import write_results

    def draw_space(name, model, rows):
        if hasattr(model, "modalities"):
            from ..evaluation.space_plot import plot_space

            try:
                print(f"eval: wrote {plot_space(model, rows, Path(f'{args.out}-{name}-space.png'))}")
            except ValueError as error:
                print(f"eval: no plot for {name}: {error}")

    results = evaluate(
        args.models,
        args.data,
        args.task,
        args.baselines,
        args.split,
        args.fit_data,
        args.per_source,
        args.limit,
        args.modality,
        args.device,
        after_model=draw_space if args.plot else None,
        peer_cache=args.peer_cache or None,
        ensembles=[tuple(pair) for pair in args.ensemble],
        ensemble_shares=args.ensemble_share,
        ensemble_media_shares=args.ensemble_media_share,
    )
    peers = [PEERS[peer].name for peer in args.baselines]
    json_path, md_path = write_results(results, Path(args.out), peers)
    print(md_path.read_text(), end="")
    print(f"wrote {json_path} and {md_path}")
    if args.plot:
        from ..evaluation.report import plot_figures

        print(f"eval: wrote {plot_figures(results, Path(f'{args.out}-figures.png'))}")
    return 0


def run_rag(args) -> int:
    from ..checkpoints import DEFAULT_MODEL
    from ..evaluation.rag import compare

    rows = compare(args.k, args.questions, tuple(args.model or [DEFAULT_MODEL]))
    print(f"{rows[0]['questions']} held-out WordNet questions, {rows[0]['documents']} passages, k={args.k}")
    print(f"{'set-up':<58} {'hit@k':>6} {'fact hit':>9} {'s/question':>11} {'peak RSS MB':>12}")
    for row in rows:
        name = (
            f"{row['model']} retrieves + generates"
            if row["setup"] == "one-model"
            else f"MiniLM retrieves + {row['model']} generates"
        )
        print(
            f"{name:<58} {row['hit_at_k']:>6.2f} {row['fact_hit']:>9.2f} {row['seconds_per_question']:>11.2f} "
            f"{row['peak_rss_mb']:>12.0f}"
        )
    return 0
