"""``mmembed soup``: average the trained weights of checkpoints of one recipe into a new model folder."""

from __future__ import annotations

from .common import non_negative_float


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "soup",
        help="write the weighted average of models of one recipe (a stage and its parent, two arms of one parent)",
        description="Every tensor of the models' weight files (LoRA A and B, projectors, shortcuts, heads) becomes "
        "sum_i w_i t_i; configs and tokenizers must agree. The calibration is dropped: evaluate the soup, then fit "
        "one with `mmembed calibrate`.",
    )
    parser.add_argument(
        "--model", "-m", action="append", required=True, help="a model folder or shipped name; give it twice or more"
    )
    parser.add_argument(
        "--weights",
        type=non_negative_float,
        nargs="+",
        default=None,
        metavar="W",
        help="one weight per --model, in order, normalised to sum to 1 (default: equal)",
    )
    parser.add_argument("--out", required=True, help="a new (or empty) folder for the soup")
    parser.set_defaults(handler=run_soup)


def run_soup(args) -> int:
    from ..soup import soup

    report = soup(args.model, args.out, args.weights)
    ingredients = ", ".join(f"{model} x {weight:g}" for model, weight in zip(report.models, report.weights))
    print(f"soup: {ingredients}")
    for rel, distance in sorted(report.averaged.items()):
        print(f"soup: averaged {rel} (the models differ by {100 * distance:.1f} % of its norm)")
    if not report.averaged:
        print("soup: every weight file is the same in all models, so the soup is the first model")
    print(f"soup: wrote {args.out} ({len(report.averaged)} files averaged, {len(report.identical)} shared)")
    if "calibration.json" in report.dropped:
        refit = f"mmembed calibrate --model {args.out} ... --out {args.out}"
        print(f"soup: the calibration was dropped; fit one with `{refit}`")
    return 0
