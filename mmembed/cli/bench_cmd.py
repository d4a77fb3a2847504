"""``mmembed bench``: speed figures against baselines measured in the same run."""

from __future__ import annotations

from .common import add_model_arguments, load_model, positive_float, positive_int


def register(subparsers) -> None:
    bench = subparsers.add_parser("bench", help="benchmarks that print figures against in-run baselines")
    kinds = bench.add_subparsers(dest="bench", metavar="BENCHMARK", required=True)
    text = kinds.add_parser("text", help="encode() text throughput vs the raw backbone forward and a naive HF loop")
    add_model_arguments(text)
    text.add_argument("--texts", type=positive_int, default=128, help="corpus size (mixed lengths, 3..max-words words)")
    text.add_argument("--max-words", type=positive_int, default=300)
    text.add_argument("--batch-size", type=positive_int, default=16)
    text.add_argument("--repeats", type=positive_int, default=3, help="best-of-N timing")
    text.add_argument(
        "--attention", choices=["causal", "bidirectional"], default=None, help="override the model's attention mode"
    )
    text.add_argument("--json", help="also write the figures to this JSON file")
    text.set_defaults(handler=bench_text)

    media = kinds.add_parser("media", help="encode() images/s and audio-s/s vs the towers + backbone forward alone")
    add_model_arguments(media)
    media.add_argument("--images", type=positive_int, default=32, help="synthetic 256 px images")
    media.add_argument("--clips", type=positive_int, default=16, help="synthetic audio clips")
    media.add_argument("--seconds", type=positive_float, default=5.0, help="length of each clip")
    media.add_argument("--batch-size", type=positive_int, default=16)
    media.add_argument("--repeats", type=positive_int, default=3, help="best-of-N timing")
    media.add_argument("--image-tokens", type=positive_int, default=None, help="override the image tower's num_tokens")
    media.set_defaults(handler=bench_media)

    index = kinds.add_parser(
        "index", help="client.index() files/s: one process vs a local Ray cluster (pip install 'mmembed[ray]')"
    )
    add_model_arguments(index)
    index.add_argument("--files", type=positive_int, default=200, help="Tux Paint media files (fetched once)")
    index.add_argument("--data-dir", default="data", help="where the tuxpaint source is (or gets) fetched")
    index.add_argument("--ray-actors", type=positive_int, default=2)
    index.set_defaults(handler=bench_index)

    soft = kinds.add_parser(
        "soft-tokens", help="choose the number of soft tokens: what K pooled tokens keep vs what they cost"
    )
    add_model_arguments(soft)
    soft.add_argument("--image-counts", default="1,4,9,16,49")
    soft.add_argument("--audio-counts", default="1,4,8,16,32")
    soft.set_defaults(handler=bench_soft_tokens)

    store = kinds.add_parser(
        "store",
        help="search p50/p99 + recall@10 (Edge vs qdrant-client local), indexing vs encoder limit, query latency",
    )
    add_model_arguments(store)
    store.add_argument("--sizes", default="10000,100000", help="collection sizes for the search benchmark")
    store.add_argument("--queries", type=positive_int, default=200)
    store.add_argument("--skip-indexing", action="store_true", help="only the search benchmark (no LLM needed)")
    store.set_defaults(handler=bench_store)

    everything = kinds.add_parser(
        "all", help="every speed figure in one run (text, image, audio, store, query, memory): JSON + table"
    )
    add_model_arguments(everything)
    everything.add_argument("--texts", type=positive_int, default=64)
    everything.add_argument("--images", type=positive_int, default=16)
    everything.add_argument("--clips", type=positive_int, default=4)
    everything.add_argument("--batch-size", type=positive_int, default=16)
    everything.add_argument("--repeats", type=positive_int, default=3, help="best-of-N timing")
    everything.add_argument("--store-points", type=positive_int, default=10_000)
    everything.add_argument("--out", default="results/bench", help="writes OUT.json and OUT.md")
    everything.set_defaults(handler=bench_all)


def bench_text(args) -> int:
    import torch

    from ..bench.text_throughput import measure

    model = load_model(args)
    with model.overrides(attention=args.attention):
        print(f"{model}; torch threads={torch.get_num_threads()}")
        result = measure(
            model, n_texts=args.texts, max_words=args.max_words, batch_size=args.batch_size, repeats=args.repeats
        )
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


def bench_all(args) -> int:
    from pathlib import Path

    import mmembed

    from ..bench.suite import run_suite, suite_table, write_suite

    model = mmembed.load(args.model, device=args.device, dtype=args.dtype)
    if not model.modalities.kinds:  # a bare backbone: attach the offline default towers
        model = mmembed.load(args.model, device=args.device, dtype=args.dtype, **DEFAULT_TOWERS)
    results = run_suite(
        model,
        texts=args.texts,
        images=args.images,
        clips=args.clips,
        batch_size=args.batch_size,
        repeats=args.repeats,
        store_points=args.store_points,
        name=args.model,
    )
    json_path, md_path = write_suite(results, Path(args.out))
    print(suite_table(results))
    print(f"wrote {json_path} and {md_path}")
    return 0


def bench_soft_tokens(args) -> int:
    import mmembed

    from ..bench.soft_tokens import measure_soft_tokens

    model = mmembed.load(args.model, device=args.device, dtype=args.dtype)
    if not model.modalities.kinds:
        model = mmembed.load(args.model, device=args.device, dtype=args.dtype, **DEFAULT_TOWERS)
    for kind, counts in (("image", args.image_counts), ("audio", args.audio_counts)):
        task = "shape x quadrant, 12 classes" if kind == "image" else "pitch order, 8 classes"
        print(f"{kind} ({task}): tokens | 1-NN accuracy of pooled tower features | encode() items/s")
        for row in measure_soft_tokens(model, kind, [int(c) for c in counts.split(",")]):
            print(f"  {row['tokens']:>4} | {row['accuracy']:.3f} | {row['items_per_s']:.2f}")
    return 0


def bench_store(args) -> int:
    import numpy as np

    from ..bench.real_vectors import wordnet_minilm_vectors
    from ..bench.store_bench import bench_indexing, bench_search

    sizes = [int(x) for x in args.sizes.split(",")]
    real = np.asarray(wordnet_minilm_vectors(max(sizes) + args.queries))
    vectors, queries = real[: max(sizes)], real[max(sizes) :]
    print(
        f"search: WordNet glosses embedded with all-MiniLM-L6-v2 (384-d), {len(queries)} held-out queries; "
        f"Edge with HNSW (exact below 20k points unless asked), recall@10 against exact numpy search"
    )
    print(f"{'backend':<22} {'points':>7} {'build s':>8} {'p50 ms':>8} {'p99 ms':>8} {'recall@10':>10}")
    for row in bench_search(vectors, queries, sizes):
        print(
            f"{row['backend']:<22} {row['points']:>7} {row['build_s']:>8.1f} {row['p50_ms']:>8.2f} "
            f"{row['p99_ms']:>8.2f} {row['recall_at_10']:>10.3f}"
        )
    if args.skip_indexing:
        return 0
    import mmembed

    embedder = mmembed.load(args.model, device=args.device, dtype=args.dtype)
    result = bench_indexing(lambda location: mmembed.Client(embedder, store=location), embedder)
    print(
        f"indexing {result['files']} files (images + texts): encode() alone {result['encode_s']:.2f} s, "
        f"client.index() {result['index_s']:.2f} s -> ratio {result['ratio']:.3f} (target >= 0.9)"
    )
    print(f"text query end to end (embed + search), p50: {result['query_p50_ms']:.1f} ms")
    return 0


def bench_index(args) -> int:
    import tempfile
    from pathlib import Path

    from ..bench.index_throughput import measure_indexing, sample_folder
    from ..data.sources.tuxpaint import stamps_folder
    from ..ray_indexer import import_ray

    import_ray()
    with tempfile.TemporaryDirectory() as tmp:
        folder = sample_folder(stamps_folder(Path(args.data_dir)), args.files, Path(tmp) / "files")
        result = measure_indexing(args.model, folder, args.ray_actors, args.device)
    print(
        f"{result['files']} files (Tux Paint images and sounds), {result['cpus']} CPUs, "
        f"Ray: local cluster, {result['ray_actors']} actors"
    )
    print(f"one process   {result['single_s']:8.1f} s  {result['single_files_per_s']:7.2f} files/s")
    print(
        f"Ray           {result['ray_s']:8.1f} s  {result['ray_files_per_s']:7.2f} files/s  "
        f"-> Ray / one process = {result['ray_vs_single']:.2f}"
    )
    return 0
