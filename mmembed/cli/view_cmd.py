"""``mmembed add-view``: give a model a second output head (another model's, fitted on the same LLM) as a view."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import add_model_arguments, load_model, unit_fraction


def media_share(text: str) -> tuple[str, float]:
    """``KIND=SHARE`` (``audio=0``) -> (kind, share)."""
    kind, _, value = text.partition("=")
    if kind not in ("image", "audio") or not value:
        raise argparse.ArgumentTypeError(f"{text!r} is not KIND=SHARE with KIND image or audio (e.g. audio=0)")
    return kind, unit_fraction(value)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "add-view",
        help="add another model's output head and shortcuts as a second view of the same LLM states",
        description="Write a model whose vectors are [sqrt(1-s) primary, sqrt(s) view]: cosines add as "
        "(1-s) cos_primary + s cos_view, the LLM running once. The view's model must share the LLM path (adapter, "
        "projectors, center): typically another `mmembed fit-shortcut --head` of the same model.",
    )
    add_model_arguments(parser)
    parser.add_argument("--view", required=True, help="the model folder whose head and shortcuts become the view")
    parser.add_argument("--share", type=unit_fraction, required=True, help="the view's share of texts' cosines")
    parser.add_argument(
        "--media-share",
        type=media_share,
        nargs="+",
        default=[],
        metavar="KIND=SHARE",
        help="a media kind's own share (default: the text share); audio=0 ranks sounds by the model alone",
    )
    parser.add_argument(
        "--carry-across",
        action="store_true",
        help="accept a view whose model has another LoRA adapter and projectors (same config, center, special "
        "tokens): a view fitted on the parent of a stage whose anchors held its media and caption states; the view "
        "then reads states it was not fitted on, so evaluate the result",
    )
    parser.add_argument("--out", required=True, help="the folder to write the model with its view into")
    parser.set_defaults(handler=run_add_view)


def run_add_view(args) -> int:
    import mmembed

    from ..view import add_view

    model = load_model(args)
    other = mmembed.load(args.view, device=args.device, dtype=args.dtype)
    add_view(model, other, args.share, dict(args.media_share), source=str(args.view), carry_across=args.carry_across)
    out = model.save_pretrained(Path(args.out))
    shares = ", ".join(f"{kind} {model.view.config.share(kind):g}" for kind in [None, *model.modalities.kinds])
    print(f"add-view: wrote {out} ({model.dimension}-d vectors; view shares: {shares.replace('None', 'text')})")
    if model.view.config.carried_across:
        carried = " and ".join(model.view.config.carried_across)
        print(f"add-view: the view was fitted on another {carried}; evaluate {out} before you use it")
    print(f"add-view: its calibration was dropped; fit one with `mmembed calibrate --model {out} ... --out {out}`")
    return 0
