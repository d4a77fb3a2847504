"""Arguments shared by the subcommands."""

from __future__ import annotations

import argparse

from ..checkpoints import DEFAULT_MODEL


def _number(kind, minimum, what: str, maximum=None):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if value != value or value < minimum or (maximum is not None and value > maximum):  # value != value: NaN
            raise argparse.ArgumentTypeError(f"{text} is not {what}")
        return value

    parse.__name__ = what  # argparse names the type in its own messages
    return parse


positive_int = _number(int, 1, "a positive integer (1 or more)")
non_negative_int = _number(int, 0, "an integer >= 0")
positive_float = _number(float, 1e-9, "a positive number")
non_negative_float = _number(float, 0.0, "a number >= 0")
port_number = _number(int, 1, "a port number (1-65535)", 65535)
unit_fraction = _number(float, 0.0, "a number from 0 to 1", 1.0)


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        "-m",
        default=DEFAULT_MODEL,
        help="a shipped checkpoint (mmembed-default), an mmembed model folder, a packaged backbone name "
        f"(smollm2-135m-instruct), a local HF folder, a .gguf file or a Hugging Face id (default: {DEFAULT_MODEL})",
    )
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    parser.add_argument(
        "--dtype", default=None, choices=["float32", "bfloat16", "float16"], help="weights dtype (default float32)"
    )


def load_model(args):
    import mmembed

    return mmembed.load(args.model, device=args.device, dtype=args.dtype)


def read_texts(args) -> list[str]:
    texts = list(args.texts)
    if getattr(args, "file", None):
        with open(args.file, encoding="utf-8") as handle:
            texts += [line.rstrip("\n") for line in handle if line.strip()]
    if not texts:
        raise ValueError("give texts as arguments or --file FILE (one per line)")
    return texts
