"""``mmembed train``: registered into the mmembed CLI as a plugin (entry point
``mmembed.commands``), so mmembed itself never imports training."""

from __future__ import annotations

import argparse

from mmembed.cli.common import positive_int


def register(subparsers) -> None:
    train = subparsers.add_parser("train", help="train a model from a YAML config (see training/configs/)")
    train.add_argument("config", help="a YAML TrainConfig")
    train.add_argument("--steps", type=positive_int, default=None, help="override the config's steps")
    train.add_argument("--output-dir", default=None)
    train.set_defaults(handler=run_train)


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv if argv is not None else ["train", *__import__("sys").argv[1:]])
    return args.handler(args) or 0
