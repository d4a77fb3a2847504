"""Arguments shared by the subcommands."""
from __future__ import annotations

import argparse

DEFAULT_MODEL = "mmembed-default"


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", "-m", default=DEFAULT_MODEL,
                        help="a shipped checkpoint (mmembed-default), an mmembed model folder, a packaged backbone name "
                             f"(smollm2-135m-instruct), a local HF folder, a .gguf file or a Hugging Face id (default: {DEFAULT_MODEL})")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    parser.add_argument("--dtype", default=None, choices=["float32", "bfloat16", "float16"], help="weights dtype (default float32)")


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
