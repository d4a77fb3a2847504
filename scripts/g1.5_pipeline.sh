#!/usr/bin/env bash
# After scripts/g1.5_audio_chain.sh: g1.5's final image map (image summary of blocks 10, 14, 15, standardized;
# the last layer raw), its calibration, then the evidence run against g1.3.
set -euo pipefail
while [ ! -f runs/g1.5a.rc ]; do sleep 20; done
[ "$(cat runs/g1.5a.rc)" = 0 ] || { echo "the audio chain failed"; exit 1; }
mmembed fit-shortcut --final --model runs/g1.5a/model --data data/tuxpaint.jsonl --data data/emoji.jsonl \
  --data data/fluent-emoji.jsonl --data data/tabler-icons.jsonl --select-data data/glyphs.jsonl \
  --select-data data/fashion-mnist.jsonl --image-summary-blocks 10 14 15 --final-standardize summary \
  --out runs/g1.5/model > runs/g1.5-fit.log 2>&1
mmembed calibrate --model runs/g1.5/model --data data/tuxpaint.jsonl --data data/emoji.jsonl \
  --data data/wordnet.jsonl --limit 1000 --out runs/g1.5/model > runs/g1.5-calibrate.log 2>&1
bash docs/results/default-against-previous.sh g1.5 runs/g1.5/model g1.3 mmembed-multisource-g1.3 > runs/g1.5-eval.log 2>&1
