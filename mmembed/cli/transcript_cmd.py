"""``mmembed transcript-weight``: fit the transcript channel's weight on training rows and, with ``--out``, switch the
channel on in a saved model folder with that weight."""

from __future__ import annotations

from pathlib import Path

from .common import add_model_arguments, load_model, positive_int


def register(subparsers) -> None:
    command = subparsers.add_parser(
        "transcript-weight",
        help="fit the audio transcript channel's weight (audio vs its Whisper transcript) on training rows",
    )
    add_model_arguments(command)
    command.add_argument("--data", required=True, action="append", help="a manifest (JSONL); repeatable")
    command.add_argument("--split", default="train", help="the split to fit on (default train: never the test one)")
    command.add_argument("--limit", type=positive_int, default=300, help="at most this many clips per source")
    command.add_argument("--out", default=None, help="a saved model folder: turn the channel on there, fitted weight")
    command.set_defaults(handler=run_transcript_weight)


def run_transcript_weight(args) -> int:
    from ..data import read_manifest
    from ..evaluation.transcript_weight import fit_transcript_weight

    rows, per_source = [], {}
    for data in args.data:
        for row in read_manifest(data, args.split):
            source = str(row.get("source", "unknown"))
            if "audio" in row and per_source.get(source, 0) < args.limit:
                per_source[source] = per_source.get(source, 0) + 1
                rows.append(row)
    embedder = load_model(args)
    if "audio" not in embedder.modalities.kinds:
        raise ValueError(f"{args.model} has no audio tower: there is no transcript channel to fit")
    fit, views = fit_transcript_weight(embedder, rows)
    print_fit(fit)
    for path, reason in views.skipped.items():
        print(f"skipped {path}: {reason}")
    chosen = f"{fit.weight:.1f}" + (f", the view's audio share {fit.share:.1f}" if fit.share is not None else "")
    print(f"transcript-weight: best {chosen} (mean mAP of both directions over {len(fit.spoken)} sources)")
    if args.out:
        write_fit(Path(args.out), fit)
    return 0


def print_fit(fit) -> None:
    """The scores per source, the best marked. A model with a view sweeps pairs of weight and view audio share:
    each weight is listed at its best share, then the best weight at every other share."""
    sources = sorted(fit.spoken)
    with_share = fit.share is not None
    weights = sorted({w for w, _ in fit.scores})
    if with_share:
        rows = [(w, max((s for v, s in fit.scores if v == w), key=lambda s: fit.mean(w, s))) for w in weights]
        rows += [(fit.weight, s) for w, s in fit.scores if w == fit.weight and (w, s) not in rows]
    else:
        rows = [(w, None) for w in weights]
    print("| weight | " + ("view audio share | " if with_share else "") + " | ".join(sources) + " | mean |")
    print("|---|" + "---|" * (len(sources) + 1 + with_share))
    for weight, share in rows:
        mark = " (best)" if (weight, share) == (fit.weight, fit.share) else ""
        cells = [f"{weight:.1f}{mark}"] + ([f"{share:.1f}"] if with_share else [])
        cells += [f"{fit.scores[(weight, share)][s]:.3f}" for s in sources] + [f"{fit.mean(weight, share):.3f}"]
        print("| " + " | ".join(cells) + " |")
    spoken = ["clips with words"] + ([""] if with_share else []) + [f"{fit.spoken[s]:.2f}" for s in sources] + [""]
    print("| " + " | ".join(spoken) + " |")


def write_fit(folder: Path, fit) -> None:
    """Turn the channel on in a saved model folder at the fitted weight (and set its view's audio share)."""
    from ..config import EmbedderConfig
    from ..view import set_saved_view_shares

    config = EmbedderConfig.load(folder)
    if config.audio_tower is None:
        raise ValueError(f"{folder} has no audio tower")
    weight = float(fit.weight)
    config.audio_tower = {**config.audio_tower, "transcribe": weight > 0, "transcript_weight": weight}
    config.save(folder)
    print(f"transcript-weight: wrote transcribe={fit.weight > 0}, transcript_weight={fit.weight} to {folder}")
    if fit.share is not None:
        set_saved_view_shares(folder, {"audio": float(fit.share)})
        print(f"transcript-weight: wrote the view's audio share {fit.share} to {folder}")
    if (folder / "calibration.json").is_file():
        print(f"transcript-weight: audio's cosines changed: refit {folder}'s calibration (mmembed calibrate)")
