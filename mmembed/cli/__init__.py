"""The ``mmembed`` command line. Each subcommand lives in its own module with ``register(subparsers)``; heavy imports
happen inside the handlers, so ``mmembed --help`` is instant."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points

from . import (
    bench_cmd,
    calibrate_cmd,
    data_cmd,
    eval_cmd,
    instructions_cmd,
    soup_cmd,
    store_cmds,
    text_cmds,
    transcript_cmd,
    view_cmd,
)

COMMAND_MODULES = [
    text_cmds,
    store_cmds,
    data_cmd,
    eval_cmd,
    calibrate_cmd,
    transcript_cmd,
    bench_cmd,
    view_cmd,
    soup_cmd,
    instructions_cmd,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmembed",
        description="One decoder LLM that embeds text, images and audio into one space, and still generates text.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    for plugin in entry_points(group="mmembed.commands"):  # commands of the layers above (training, ui)
        plugin.load()(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args) or 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, RuntimeError, OSError, ImportError) as error:
        print(f"mmembed {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
