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
    from ..config import EmbedderConfig
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
    sources = sorted(fit.spoken)
    print("| weight | " + " | ".join(sources) + " | mean |")
    print("|---|" + "---|" * (len(sources) + 1))
    for weight, scores in fit.scores.items():
        mark = " (best)" if weight == fit.weight else ""
        figures = " | ".join(f"{scores[s]:.3f}" for s in sources)
        print(f"| {weight:.1f}{mark} | {figures} | {fit.mean(weight):.3f} |")
    print("| clips with words | " + " | ".join(f"{fit.spoken[s]:.2f}" for s in sources) + " | |")
    for path, reason in views.skipped.items():
        print(f"skipped {path}: {reason}")
    print(f"transcript-weight: best {fit.weight:.1f} (mean mAP of both directions over {len(sources)} sources)")
    if args.out:
        folder = Path(args.out)
        config = EmbedderConfig.load(folder)
        if config.audio_tower is None:
            raise ValueError(f"{folder} has no audio tower")
        weight = float(fit.weight)
        config.audio_tower = {**config.audio_tower, "transcribe": weight > 0, "transcript_weight": weight}
        config.save(folder)
        print(f"transcript-weight: wrote transcribe={fit.weight > 0}, transcript_weight={fit.weight} to {folder}")
    return 0
