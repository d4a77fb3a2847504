"""The README's peers headline rows from a peers run's table (``docs/results/gemma-NAME-peers.md``: the default's
column first, then the previous default's, then the peers): best figure in bold, the default over the best peer.

    python scripts/readme_headline.py docs/results/gemma-g1.5-peers.md
"""

import sys

ROWS = [
    ("Tux Paint text -> image mAP", "retrieval:image@tuxpaint text->item mAP"),
    ("Tux Paint image -> text mAP", "retrieval:image@tuxpaint item->text mAP"),
    ("Google emoji text -> image mAP", "retrieval:image@emoji text->item mAP"),
    ("Google emoji image -> text mAP", "retrieval:image@emoji item->text mAP"),
    ("Fluent emoji text -> image mAP", "retrieval:image@fluent-emoji text->item mAP"),
    ("Fluent emoji image -> text mAP", "retrieval:image@fluent-emoji item->text mAP"),
    ("Tabler icons text -> image mAP", "retrieval:image@tabler-icons text->item mAP"),
    ("Tabler icons image -> text mAP", "retrieval:image@tabler-icons item->text mAP"),
    ("Tux Paint sounds text -> sound mAP", "retrieval:audio@tuxpaint text->item mAP"),
    ("Tux Paint sounds sound -> text mAP", "retrieval:audio@tuxpaint item->text mAP"),
    ("speech text -> sound mAP", "retrieval:audio@speech text->item mAP"),
    ("speech sound -> text mAP", "retrieval:audio@speech item->text mAP"),
    ("speech -> text R@1", "retrieval:audio@speech item->text R@1"),
    ("speech, new voices, text -> sound mAP", "retrieval:audio@speech-voices text->item mAP"),
    ("speech, new voices, sound -> text mAP", "retrieval:audio@speech-voices item->text mAP"),
    ("speech, new voices -> text R@1", "retrieval:audio@speech-voices item->text R@1"),
    ("emoji names spoken, new voices, text -> sound mAP", "retrieval:audio@speech-emoji text->item mAP"),
    ("emoji names spoken, new voices, sound -> text mAP", "retrieval:audio@speech-emoji item->text mAP"),
    ("emoji names spoken, new voices -> text R@1", "retrieval:audio@speech-emoji item->text R@1"),
    ("instruments text -> sound mAP", "retrieval:audio@instruments text->item mAP"),
    ("instruments sound -> text mAP", "retrieval:audio@instruments item->text mAP"),
    ("handwritten digits text -> image mAP", "retrieval:image@digits text->item mAP"),
    ("handwritten digits image -> text mAP", "retrieval:image@digits item->text mAP"),
    ("zero-shot category, Tux Paint images", "zeroshot:image@tuxpaint accuracy"),
    ("zero-shot category, Google emoji", "zeroshot:image@emoji accuracy"),
    ("zero-shot category, Tabler icons", "zeroshot:image@tabler-icons accuracy"),
    ("zero-shot category, Tux Paint sounds", "zeroshot:audio@tuxpaint accuracy"),
    ("zero-shot instruments", "zeroshot:audio@instruments accuracy"),
    ("zero-shot handwritten digits", "zeroshot:image@digits accuracy"),
    ("Sonic Pi sound -> text mAP (never trained on)", "retrieval:audio@sonic-pi item->text mAP"),
    ("Sonic Pi text -> sound mAP (never trained on)", "retrieval:audio@sonic-pi text->item mAP"),
    ("Fashion-MNIST text -> image mAP (never trained on)", "retrieval:image@fashion-mnist text->item mAP"),
    ("Fashion-MNIST image -> text mAP (never trained on)", "retrieval:image@fashion-mnist item->text mAP"),
    ("Fashion-MNIST zero-shot accuracy (never trained on)", "zeroshot:image@fashion-mnist accuracy"),
    ("glyphs text -> image mAP (never trained on)", "retrieval:image@glyphs text->item mAP"),
    ("glyphs image -> text mAP (never trained on)", "retrieval:image@glyphs item->text mAP"),
    ("WordNet text retrieval R@1", "text_retrieval:text@wordnet query->passage R@1"),
    ("WordNet-STS Spearman", "sts:text@wordnet-sts spearman"),
]
PEERS = ["LiT", "ASR cascade", "MiniLM", "mpnet"]


def cell(value: str, number: float | None, best: float) -> str:
    """A figure as the table prints it, in bold when it is the row's best (its † kept after the bold)."""
    if not value:
        return "-"
    return f"**{value.rstrip('†')}**" + ("†" if value.endswith("†") else "") if number == best else value


def main(path: str) -> None:
    table = {}
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 8:
            table[cells[0]] = cells[1:12]
    for name, key in ROWS:
        if key not in table:  # a source that run did not evaluate
            print(f"(no {key!r} in {path})", file=sys.stderr)
            continue
        own, half_width, previous, *rest = table[key]
        peers, ratios = rest[:4], rest[4:]
        values = [own, previous, *peers]
        numbers = [float(v.rstrip("†")) if v else None for v in values]
        best = max(n for n in numbers if n is not None)
        cells = [cell(v, n, best) for v, n in zip(values, numbers)]
        scored = [(n, p) for n, p in zip(numbers[2:], PEERS) if n is not None]
        top = max(n for n, _ in scored)
        leaders = [p for n, p in scored if n == top]
        ratio = f"{ratios[PEERS.index(leaders[0])]} ({', '.join(leaders)})" if top else "-"
        print(f"| {name} | {cells[0]} | {half_width} | {' | '.join(cells[1:])} | {ratio} |")


if __name__ == "__main__":
    main(sys.argv[1])
