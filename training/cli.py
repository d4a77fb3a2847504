"""``mmembed train`` and ``mmembed fit-shortcut``: registered into the mmembed CLI as a plugin (entry point
``mmembed.commands``), so mmembed itself never imports training."""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

from mmembed.cli.common import (
    add_model_arguments,
    load_model,
    non_negative_float,
    non_negative_int,
    positive_int,
    unit_fraction,
)


def register(subparsers) -> None:
    train = subparsers.add_parser("train", help="train a model from a YAML config (see training/configs/)")
    train.add_argument("config", help="a YAML TrainConfig")
    train.add_argument("--steps", type=positive_int, default=None, help="override the config's steps")
    train.add_argument("--output-dir", default=None)
    train.add_argument(
        "--model",
        default=None,
        help="override the config's model: a packaged backbone (mmembed models), a model folder or a hub id "
        "(arms that differ only in their backbone share one config)",
    )
    train.set_defaults(handler=run_train)
    shortcut = subparsers.add_parser(
        "fit-shortcut",
        help="fit a trained model's tower shortcuts (media features straight to its text space) and their weights",
    )
    add_model_arguments(shortcut)
    shortcut.add_argument("--data", action="append", help="a manifest (JSONL) to fit on (its train split); repeatable")
    shortcut.add_argument(
        "--select-data",
        action="append",
        default=[],
        help="a manifest of a source no stage trained on (JSONL; its train split): the shortcut weights are chosen on "
        "its items, unbiased, instead of on the fit data's check rows; repeatable",
    )
    shortcut.add_argument(
        "--select-limit", type=positive_int, default=1000, help="at most this many selection items per source"
    )
    shortcut.add_argument(
        "--keep-shortcuts",
        action="store_true",
        help="keep the model's fitted shortcuts and only choose their weights again on --select-data",
    )
    shortcut.add_argument(
        "--final",
        action="store_true",
        help="fit a final shortcut instead: per media kind a map from tower features onto the model's final vectors "
        "(after its output head, shortcuts and view), its weight chosen on --select-data; the model is kept as it is, "
        "and so are its final maps of kinds --select-data has no rows of (fit image and audio maps in turn)",
    )
    shortcut.add_argument(
        "--head",
        action="store_true",
        help="also fit the output head (a linear map on every vector before normalising, text included) together "
        "with the shortcuts, so the text side meets what the towers can predict",
    )
    shortcut.add_argument(
        "--preserve-weight",
        type=non_negative_float,
        default=1.0,
        help="with --head: weight of the self-distillation that keeps each caption's text neighbours",
    )
    shortcut.add_argument(
        "--preserve-data",
        action="append",
        default=[],
        help="with --head: a manifest (JSONL; its train split) whose texts (and its labels' zero-shot prompts) the "
        "head must leave among the same neighbours, e.g. a text-pair source or translated captions; repeatable",
    )
    shortcut.add_argument(
        "--preserve-teacher",
        metavar="TEACHER",
        help="with --head: the texts keep the neighbourhoods this packaged sentence model (minilm or mpnet) gives "
        "them, not the model's own (distillation through the head)",
    )
    shortcut.add_argument(
        "--preserve-teacher-share",
        type=unit_fraction,
        default=1.0,
        help="with --preserve-teacher: the teacher's share of the kept neighbourhoods (0-1), the model's own the rest",
    )
    shortcut.add_argument(
        "--preserve-teacher-languages",
        nargs="+",
        metavar="LANG",
        help="with --preserve-teacher: the teacher sets only the texts in these languages (a row's 'lang'; texts "
        "without one count as en), every other text keeps the model's own neighbours; e.g. en (default: all texts)",
    )
    shortcut.add_argument(
        "--preserve-teacher-parts",
        nargs="+",
        metavar="PART",
        help="with --preserve-teacher: the teacher sets only the texts of these parts (captions: the fit captions; "
        "prompts: the labels' zero-shot prompts; data: the --preserve-data texts), the rest keep the model's own "
        "neighbours (default: every part)",
    )
    shortcut.add_argument(
        "--translation-data",
        action="append",
        default=[],
        help="with --head: a multilingual manifest (rows with 'lang'; its train split) whose translations must find "
        "their English originals through the head, so it moves every language as it moves English; repeatable",
    )
    shortcut.add_argument(
        "--translation-weight",
        type=non_negative_float,
        default=1.0,
        help="with --translation-data: weight of that term",
    )
    shortcut.add_argument(
        "--final-hidden",
        type=non_negative_int,
        default=2048,
        help="with --final: the maps' hidden layer (a two-layer MLP); 0 for linear maps",
    )
    shortcut.add_argument(
        "--final-storage",
        choices=("float16", "float32"),
        default="float16",
        help="with --final: the dtype the maps (kept ones too) are saved in; float16 halves the file, the values are "
        "rounded to it before their weights are chosen",
    )
    shortcut.add_argument(
        "--final-standardize",
        choices=("none", "summary", "all"),  # training.final_shortcut.STANDARDIZE (not imported: keeps the CLI light)
        default="none",
        help="with --final: fit each map on standardized features (per feature: minus the fit rows' mean, over their "
        "spread), all of them or the image summary's alone; folded into the map's first layer, so it reads the "
        "features as they come",
    )
    shortcut.add_argument(
        "--final-tokens",
        choices=("mean", "side-by-side"),  # training.final_shortcut.TOKENS
        default="mean",
        help="with --final: each map reads the mean of an item's soft tokens, or the tokens side by side (an "
        "image's 2 x 2 layout: where things are), the image summary once",
    )
    shortcut.add_argument(
        "--final-members",
        type=positive_int,
        default=1,
        help="with --final: maps fitted per kind, each with its own seed, read as the mean of their unit outputs "
        "(an ensemble: less of one fit's variance; each member adds a map to the checkpoint)",
    )
    shortcut.add_argument(
        "--final-per-caption",
        type=positive_int,
        help="with --final: fit each map on at most this many pairs per caption (a seeded sample), so a source of a "
        "few classes (digits: 160 drawings of each) cannot crowd the sources that give a caption one item "
        "(default: every pair)",
    )
    shortcut.add_argument(
        "--image-summary-blocks",
        nargs="+",
        type=non_negative_int,
        metavar="BLOCK",
        help="with --final: first give every image's tower features a summary of these EfficientNet-Lite0 blocks "
        "(0-15: each block's mean and spread over the image), which the final image map then reads beside the last "
        "layer's; saved with the model (e.g. 10 14 15)",
    )
    shortcut.add_argument("--steps", type=positive_int, default=400, help="optimiser steps per media kind")
    shortcut.add_argument("--feature-cache", default="runs/feature_cache", help="cached tower features and banks")
    shortcut.add_argument("--out", required=True, help="where to save the model with its shortcuts")
    shortcut.set_defaults(handler=run_fit_shortcut)


def run_train(args) -> int:
    from .config import TrainConfig
    from .trainer import train

    config = TrainConfig.from_yaml(args.config)
    if args.steps:
        config.steps = args.steps
    if args.output_dir:
        config.output_dir = args.output_dir
    if args.model:
        config.model = args.model
    print(f"train: model saved to {train(config)}")
    return 0


def run_fit_shortcut(args) -> int:
    import torch

    from mmembed.data import read_manifest

    from .preserve_texts import PART_NAMES
    from .shortcut import ShortcutFitConfig, fit_shortcuts, selection_rows, sweep_shortcut_weights

    if args.final:
        return run_fit_final_shortcut(args)
    if args.image_summary_blocks is not None:
        raise ValueError("--image-summary-blocks is read by the final image map only: add --final")
    if args.keep_shortcuts and not args.select_data:
        raise ValueError("--keep-shortcuts chooses the weights again on --select-data: give at least one")
    if not args.keep_shortcuts and not args.data:
        raise ValueError("give --data MANIFEST (the rows to fit the shortcuts on), or --keep-shortcuts")
    if args.head and args.keep_shortcuts:
        raise ValueError("--head fits the output head with the shortcuts: it cannot keep them (drop --keep-shortcuts)")
    if args.translation_data and not args.head:
        raise ValueError("--translation-data anchors the output head: add --head")
    if args.preserve_data and not args.head:
        raise ValueError("--preserve-data holds texts in place under the output head: add --head")
    if args.preserve_teacher and not args.head:
        raise ValueError("--preserve-teacher sets the output head's text neighbourhoods: add --head")
    for flag in ("languages", "parts"):
        if getattr(args, f"preserve_teacher_{flag}") and not args.preserve_teacher:
            raise ValueError(f"--preserve-teacher-{flag} limits a teacher's texts: add --preserve-teacher")
    unknown = sorted(set(args.preserve_teacher_parts or ()) - set(PART_NAMES))
    if unknown:
        raise ValueError(
            f"--preserve-teacher-parts: unknown part(s) {', '.join(unknown)}; known: {', '.join(PART_NAMES)}"
        )
    select = [row for data in args.select_data for row in read_manifest(data, "train")]
    select = selection_rows(select, args.select_limit)
    embedder = load_model(args)
    translations = [row for data in args.translation_data for row in read_manifest(data, "train")]
    preserve = [row for data in args.preserve_data for row in read_manifest(data, "train")]
    config = ShortcutFitConfig(
        steps=args.steps,
        head=args.head,
        preserve_weight=args.preserve_weight,
        preserve_teacher=args.preserve_teacher,
        preserve_teacher_share=args.preserve_teacher_share,
        preserve_teacher_languages=tuple(args.preserve_teacher_languages) if args.preserve_teacher_languages else None,
        preserve_teacher_parts=tuple(args.preserve_teacher_parts) if args.preserve_teacher_parts else None,
        translation_weight=args.translation_weight,
    )
    if args.keep_shortcuts:
        fit = sweep_shortcut_weights(embedder, select, args.feature_cache, config)
    else:
        rows = [row for data in args.data for row in read_manifest(data, "train")]
        cache = args.feature_cache
        fit = fit_shortcuts(
            embedder, rows, cache, config, select_rows=select, translation_rows=translations, preserve_rows=preserve
        )
    for kind, sweep in fit.sweeps.items():
        kept = f"shortcut kept at step {fit.best_steps[kind]}; " if kind in fit.best_steps else ""
        print_sweep(f"{kind}: {kept}mean mAP of both directions on {fit.swept_on[kind]}", sweep, fit.weights[kind])
    if args.head:
        change = (embedder.head.cpu() - torch.eye(embedder.hidden_size)).norm() / embedder.hidden_size**0.5
        print(f"\noutput head fitted with the shortcuts: ||H - I||_F / sqrt(D) = {change:.3f}")
    folder = embedder.save_pretrained(args.out)
    print(f"fit-shortcut: weights {fit.weights} saved with the model to {folder} (refit its calibration next)")
    return 0


def print_sweep(title: str, sweep: dict, best: float, column: str = "shortcut weight", score=None, score_name="mean"):
    """A weight sweep as a markdown table: one row per weight, a column per source and the score the weight was
    chosen by (``score(weight)``; default: the mean over the sources)."""
    sources = sorted(next(iter(sweep.values())))
    print(f"\n{title}")
    print(f"| {column} | " + " | ".join(sources) + f" | {score_name} |")
    print("|---|" + "---|" * (len(sources) + 1))
    for weight, scores in sweep.items():
        mark = " (best)" if weight == best else ""
        value = score(weight) if score else sum(scores.values()) / len(scores)
        print(f"| {weight:.1f}{mark} | " + " | ".join(f"{scores[s]:.3f}" for s in sources) + f" | {value:.3f} |")


def run_fit_final_shortcut(args) -> int:
    from mmembed.data import read_manifest

    from .final_shortcut import FinalShortcutFitConfig, fit_final_shortcut
    from .shortcut import selection_rows

    incompatible = [
        flag
        for flag, given in (
            ("--head", args.head),
            ("--keep-shortcuts", args.keep_shortcuts),
            ("--preserve-data", args.preserve_data),
            ("--preserve-teacher", args.preserve_teacher),
            ("--translation-data", args.translation_data),
        )
        if given
    ]
    if incompatible:
        raise ValueError(f"--final fits only the final shortcut: drop {', '.join(incompatible)}")
    if not args.data or not args.select_data:
        raise ValueError("--final needs --data (the rows to fit the maps on) and --select-data (to choose weights on)")
    select = [row for data in args.select_data for row in read_manifest(data, "train")]
    select = selection_rows(select, args.select_limit)
    rows = [row for data in args.data for row in read_manifest(data, "train")]
    embedder = load_model(args)
    if args.image_summary_blocks is not None:
        embedder.set_image_summary(args.image_summary_blocks)
    source = " ".join(Path(data).stem for data in args.data)
    config = FinalShortcutFitConfig(
        steps=args.steps,
        hidden_dim=args.final_hidden or None,
        storage=args.final_storage,
        standardize=args.final_standardize,
        tokens=args.final_tokens,
        members=args.final_members,
        per_caption=args.final_per_caption,
    )
    fit = fit_final_shortcut(embedder, rows, select, args.feature_cache, config, source=source)
    for kind in fit.left_out:
        had = embedder.final_shortcut is not None and kind in embedder.final_shortcut.shortcuts
        kept = f"the model's final {kind} map kept as it was" if had else f"no final {kind} map"
        print(f"fit-shortcut --final: no {kind} rows in --select-data, so {kept}")
    for kind, count in fit.dropped.items():
        if count:
            print(f"fit-shortcut --final: {count} {kind} selection rows dropped: the fit data has their captions")
    for kind, sweep in fit.sweeps.items():
        title = (
            f"final {kind} shortcut ({fit.pairs[kind]} training pairs): mean mAP of both directions on the check rows "
            "of the fitted sources and on the selection rows; the weight is chosen by the two sets' means, averaged"
        )
        score = partial(fit.score, kind)
        print_sweep(title, sweep, fit.weights[kind], column="final weight", score=score, score_name="score")
    folder = embedder.save_pretrained(args.out)
    print(f"fit-shortcut --final: weights {fit.weights} saved with the model to {folder} (refit its calibration next)")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv if argv is not None else ["train", *__import__("sys").argv[1:]])
    return args.handler(args) or 0
