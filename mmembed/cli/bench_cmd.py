"""``mmembed bench``: speed figures against baselines measured in the same run."""
from __future__ import annotations

from .common import add_model_arguments, load_model


def register(subparsers) -> None:
    bench = subparsers.add_parser("bench", help="benchmarks that print figures against in-run baselines")
    kinds = bench.add_subparsers(dest="bench", metavar="BENCHMARK", required=True)
    text = kinds.add_parser("text", help="encode() text throughput vs the raw backbone forward and a naive HF loop")
    add_model_arguments(text)
    text.add_argument("--texts", type=int, default=128, help="corpus size (mixed lengths, 3..max-words words)")
    text.add_argument("--max-words", type=int, default=300)
    text.add_argument("--batch-size", type=int, default=16)
    text.add_argument("--repeats", type=int, default=3, help="best-of-N timing")
    text.add_argument("--attention", choices=["causal", "bidirectional"], default=None, help="override the model's attention mode")
    text.add_argument("--json", help="also write the figures to this JSON file")
    text.set_defaults(handler=bench_text)


def bench_text(args) -> int:
    import torch

    from ..bench.text_throughput import measure

    model = load_model(args)
    if args.attention:
        model.config.attention = args.attention
    print(f"{model}; torch threads={torch.get_num_threads()}")
    result = measure(model, n_texts=args.texts, max_words=args.max_words, batch_size=args.batch_size, repeats=args.repeats)
    print(f"corpus: {result.texts} texts, {result.tokens} tokens; best of {args.repeats}")
    print(result.report())
    if args.json:
        with open(args.json, "w") as handle:
            handle.write(result.to_json())
    return 0
