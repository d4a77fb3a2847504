"""``mmembed instructions``: list a model's named task instructions, or change them in its folder."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

CALIBRATED_WITH = ("query", "document")  # the instructions calibration pairs are encoded with


def assignment(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not name or not equals:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE (e.g. sts=query)")
    return name, value


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "instructions",
        help="list a model's named task instructions, or set them (e.g. sts takes the query text)",
        description="Without --set/--copy, print the instructions. With them, write the model's folder (or a copy "
        "of it, --out) with the changed instructions; vectors encoded with a changed instruction change too.",
    )
    parser.add_argument("--model", "-m", required=True, help="a model folder, or a shipped name with --out")
    parser.add_argument(
        "--set", type=assignment, action="append", default=[], metavar="NAME=TEXT", help="an instruction's text"
    )
    parser.add_argument(
        "--copy",
        type=assignment,
        action="append",
        default=[],
        metavar="NAME=FROM",
        help="give instruction NAME the text of instruction FROM (sts=query)",
    )
    parser.add_argument("--out", default=None, help="write a copy of the model here (new or empty) instead")
    parser.set_defaults(handler=run_instructions)


def run_instructions(args) -> int:
    from ..checkpoints import shipped_checkpoint
    from ..config import EmbedderConfig
    from ..serialization import require_new_folder

    shipped = shipped_checkpoint(args.model)
    source = Path(shipped or args.model)
    config = EmbedderConfig.load(source)
    if not args.set and not args.copy:
        for name, text in sorted(config.instructions.items()):
            default = " (default)" if name == config.default_instruction else ""
            print(f"{name}{default}: {text!r}")
        return 0
    changes = dict(args.set)
    for name, origin in args.copy:
        if origin not in config.instructions:
            raise ValueError(
                f"--copy {name}={origin}: the model has no instruction {origin!r} ({sorted(config.instructions)})"
            )
        changes[name] = config.instructions[origin]
    if args.out is None and shipped is not None:
        raise ValueError(f"{args.model} is a shipped checkpoint and stays as shipped; give --out to write a copy")
    target = source
    if args.out is not None:
        target = Path(args.out)
        require_new_folder(target)
        shutil.copytree(source, target, dirs_exist_ok=True)
    changed = {name: text for name, text in changes.items() if config.instructions.get(name) != text}
    config.instructions.update(changed)
    EmbedderConfig.from_dict(config.to_dict()).save(target)  # validated before it is written
    for name, text in changed.items():
        print(f"instructions: {name} = {text!r}")
    stale = sorted(set(changed) & {*CALIBRATED_WITH, config.default_instruction})
    if stale and (target / "calibration.json").is_file():
        (target / "calibration.json").unlink()
        print(f"instructions: {', '.join(stale)} changed: the calibration was dropped; refit it (`mmembed calibrate`)")
    print(f"instructions: wrote {target} ({len(changed)} changed)")
    return 0
