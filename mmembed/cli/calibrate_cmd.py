"""``mmembed calibrate``: fit the cosine -> relevance maps of a model on held-out pairs and save them beside it."""

from __future__ import annotations

from pathlib import Path

from .common import add_model_arguments, load_model, positive_int


def register(subparsers) -> None:
    calibrate = subparsers.add_parser(
        "calibrate", help="fit calibrated relevance (cosine -> probability) on held-out pairs"
    )
    add_model_arguments(calibrate)
    calibrate.add_argument("--data", required=True, action="append", help="a manifest (JSONL); repeatable")
    calibrate.add_argument("--split", default="test", help="the held-out split to fit and check on (default test)")
    calibrate.add_argument("-k", type=positive_int, default=10, help="hits per query that become examples (default 10)")
    calibrate.add_argument("--limit", type=positive_int, default=2000, help="at most this many text pairs")
    calibrate.add_argument("--out", required=True, help="the model folder to write calibration.json into")
    calibrate.set_defaults(handler=run_calibrate)


def run_calibrate(args) -> int:
    from ..data import read_manifest
    from ..evaluation.calibration import fit_calibration

    rows = [row for data in args.data for row in read_manifest(data, args.split)]
    calibration = fit_calibration(load_model(args), rows, k=args.k, limit=args.limit)
    path = calibration.save(Path(args.out))
    print("| pair | slope | intercept | check ECE | Brier | top-1 relevant | said good | precision | recall |")
    print("|---|---|---|---|---|---|---|---|---|")
    for pair, scale in sorted(calibration.maps.items()):
        c = calibration.fitted_on[pair]["check"]
        figures = [
            c["ece"],
            c["brier"],
            c["top1_relevant"],
            c["top1_said_good"],
            c["good_match_precision"],
            c["good_match_recall"],
        ]
        print(
            f"| {pair} | {scale.slope:.2f} | {scale.intercept:.2f} | "
            + " | ".join("-" if f is None else f"{f:.3f}" for f in figures)
            + " |"
        )
    print(f"calibrate: wrote {path}")
    return 0
