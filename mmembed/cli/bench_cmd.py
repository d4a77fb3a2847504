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

    media = kinds.add_parser("media", help="encode() images/s and audio-s/s vs the towers + backbone forward alone")
    add_model_arguments(media)
    media.add_argument("--images", type=int, default=32, help="synthetic 256 px images")
    media.add_argument("--clips", type=int, default=16, help="synthetic audio clips")
    media.add_argument("--seconds", type=float, default=5.0, help="length of each clip")
    media.add_argument("--batch-size", type=int, default=16)
    media.add_argument("--repeats", type=int, default=3, help="best-of-N timing")
    media.add_argument("--image-tokens", type=int, default=None, help="override the image tower's num_tokens")
    media.set_defaults(handler=bench_media)

    soft = kinds.add_parser("soft-tokens", help="choose the number of soft tokens: what K pooled tokens keep vs what they cost")
    add_model_arguments(soft)
    soft.add_argument("--image-counts", default="1,4,9,16,49")
    soft.add_argument("--audio-counts", default="1,4,8,16,32")
    soft.set_defaults(handler=bench_soft_tokens)


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


DEFAULT_TOWERS = {"image_tower": {"kind": "efficientnet_lite0"}, "audio_tower": {"source": "packaged:tiny.en"}}


def bench_media(args) -> int:
    import mmembed

    from ..bench.media_throughput import measure_media

    model = mmembed.load(args.model, device=args.device, dtype=args.dtype)
    if not model.modalities.kinds:  # a bare backbone: attach the offline default towers
        towers = {k: dict(v) for k, v in DEFAULT_TOWERS.items()}
        if args.image_tokens:
            towers["image_tower"]["num_tokens"] = args.image_tokens
        model = mmembed.load(args.model, device=args.device, dtype=args.dtype, **towers)
    print(model)
    for kind, count in (("image", args.images), ("audio", args.clips)):
        if kind in model.modalities.kinds and count:
            result = measure_media(model, kind, count, args.batch_size, args.seconds, args.repeats)
            print(result.report())
    return 0


def bench_soft_tokens(args) -> int:
    import mmembed

    from ..bench.soft_tokens import measure_soft_tokens

    model = mmembed.load(args.model, device=args.device, dtype=args.dtype, **DEFAULT_TOWERS)
    for kind, counts in (("image", args.image_counts), ("audio", args.audio_counts)):
        task = "shape x quadrant, 12 classes" if kind == "image" else "pitch order, 8 classes"
        print(f"{kind} ({task}): tokens | 1-NN accuracy of pooled tower features | encode() items/s")
        for row in measure_soft_tokens(model, kind, [int(c) for c in counts.split(",")]):
            print(f"  {row['tokens']:>4} | {row['accuracy']:.3f} | {row['items_per_s']:.2f}")
    return 0
