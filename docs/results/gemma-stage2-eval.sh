#!/bin/bash
set -e
cd "$(dirname "$0")/../.."
M=runs/gemma-all-sources/model
mmembed transcript-weight --model $M --data data/speech.jsonl --data data/tuxpaint.jsonl \
  --data data/instruments.jsonl --limit 150 --out $M
mmembed eval gemma=$M mmembed-default=mmembed-multisource-v8 \
  --data data/tuxpaint.jsonl --data data/speech.jsonl --data data/speech-voices.jsonl --data data/emoji.jsonl \
  --data data/fluent-emoji.jsonl --data data/fashion-mnist.jsonl --data data/instruments.jsonl \
  --data data/sonic-pi.jsonl --data data/tabler-icons.jsonl --data data/glyphs.jsonl --data data/wordnet.jsonl \
  --data data/wordnet-sts.jsonl \
  --per-source --limit 500 --task retrieval --task zeroshot --task text_retrieval --task sts --out docs/results/gemma-stage2-all
mmembed eval gemma=$M mmembed-default=mmembed-multisource-v8 --data data/tuxpaint-multilingual.jsonl --task retrieval \
  --per-source --modality image --out docs/results/gemma-stage2-multilingual
