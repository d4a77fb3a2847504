#!/usr/bin/env bash
# g1.5's audio side: g1.2 (no final audio map) with the transcript weight chosen on never-trained rows that say new
# sentences (speech-emoji: emoji names by held-out voices; Sonic Pi), then the final audio map refitted on top with its
# weight chosen on the same selection sources. Writes runs/g1.5a/model.
set -euo pipefail
OUT=${OUT:-runs/g1.5a/model}
rm -rf runs/g1.5a && mkdir -p runs/g1.5a
cp -r mmembed/checkpoints/multisource-g1.2 runs/g1.5a/g1.2-tw
mmembed transcript-weight --model runs/g1.5a/g1.2-tw --data data/speech-emoji.jsonl --data data/sonic-pi.jsonl \
  --limit 300 --out runs/g1.5a/g1.2-tw
mmembed fit-shortcut --final --model runs/g1.5a/g1.2-tw --data data/tuxpaint.jsonl --data data/speech.jsonl \
  --data data/instruments.jsonl --select-data data/sonic-pi.jsonl --select-data data/speech-emoji.jsonl \
  --select-limit 300 --out "$OUT"
