"""Subcommands on texts: quickstart, embed, similarity, generate, models."""

from __future__ import annotations

import json
import sys

from .common import add_model_arguments, load_model, positive_int, read_texts

QUICKSTART_TEXTS = [
    "A cat sits on the mat.",
    "A kitten is resting on a rug.",
    "The stock market fell sharply today.",
    "Share prices dropped steeply this afternoon.",
    "How do I bake bread at home?",
]


def register(subparsers) -> None:
    quick = subparsers.add_parser(
        "quickstart", help="embed a few sentences with the default model and show their similarities"
    )
    add_model_arguments(quick)
    quick.set_defaults(handler=quickstart)

    embed = subparsers.add_parser("embed", help="embed texts and write the vectors (JSON lines or .npy)")
    add_model_arguments(embed)
    embed.add_argument("texts", nargs="*", help="texts to embed")
    embed.add_argument("--file", "-f", help="a UTF-8 file with one text per line")
    embed.add_argument(
        "--instruction",
        "-i",
        default=None,
        help="an instruction name from the model config (query, document, ...) or a literal instruction",
    )
    embed.add_argument("--batch-size", type=positive_int, default=32)
    embed.add_argument(
        "--output", "-o", default="-", help="file to write: .npy for a numpy array, else JSON lines (default: stdout)"
    )
    embed.set_defaults(handler=embed_texts)

    similarity = subparsers.add_parser("similarity", help="print the cosine similarity matrix of texts")
    add_model_arguments(similarity)
    similarity.add_argument("texts", nargs="*", help="texts to compare")
    similarity.add_argument("--file", "-f", help="a UTF-8 file with one text per line")
    similarity.add_argument("--instruction", "-i", default=None)
    similarity.set_defaults(handler=similarity_matrix)

    generate = subparsers.add_parser("generate", help="generate text with the same model (generation mode)")
    add_model_arguments(generate)
    generate.add_argument("prompt", help="the user message")
    generate.add_argument("--max-new-tokens", type=positive_int, default=128)
    generate.set_defaults(handler=generate_text)

    models = subparsers.add_parser("models", help="list the packaged backbone names usable offline")
    models.set_defaults(handler=list_packaged)


def print_matrix(texts: list[str], sims) -> None:
    labels = [text if len(text) <= 40 else text[:37] + "..." for text in texts]
    print(" " * 42 + "".join(f"{i:>7}" for i in range(len(texts))))
    for i, label in enumerate(labels):
        print(f"{i:>2} {label:<39}" + "".join(f"{value:>7.3f}" for value in sims[i]))


def quickstart(args) -> int:
    model = load_model(args)
    print(model)
    vectors = model.encode(QUICKSTART_TEXTS)
    print_matrix(QUICKSTART_TEXTS, model.similarity(vectors, vectors))
    return 0


def embed_texts(args) -> int:
    import numpy as np

    texts = read_texts(args)
    vectors = load_model(args).encode(
        texts, batch_size=args.batch_size, instruction=args.instruction, show_progress_bar=True, on_error="nan"
    )
    if args.output.endswith(".npy"):
        np.save(args.output, vectors)
        print(f"wrote {vectors.shape[0]} x {vectors.shape[1]} vectors to {args.output}", file=sys.stderr)
        return 0
    lines = [
        json.dumps({"text": text, "embedding": vector.tolist() if np.isfinite(vector).all() else None})
        for text, vector in zip(texts, vectors)
    ]
    if args.output == "-":
        print("\n".join(lines))
    else:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    return 0


def similarity_matrix(args) -> int:
    texts = read_texts(args)
    model = load_model(args)
    vectors = model.encode(texts, instruction=args.instruction)
    print_matrix(texts, model.similarity(vectors, vectors))
    return 0


def generate_text(args) -> int:
    print(load_model(args).generate(args.prompt, max_new_tokens=args.max_new_tokens))
    return 0


def list_packaged(args) -> int:
    from ..backbones import get_model_spec, list_models

    for name in list_models():
        spec = get_model_spec(name)
        print(f"{name:<28} {spec['description']}\n{'':<28} install: {spec['packaged']['install']}")
    return 0
