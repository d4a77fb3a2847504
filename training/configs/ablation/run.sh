#!/usr/bin/env bash
# The ablation of issue #4: untouched backbone vs LLM2Vec vs UniMAE vs GRIT vs the default recipe, each given the same
# supervised stage (100 steps x 16 of Tux Paint + WordNet pairs) and evaluated on the held-out splits in one run.
# Needs: mmembed fetch tuxpaint wordnet wordnet-sts --data-dir data.   CPU (2 cores): about 80 minutes.   From the repo root.
set -euo pipefail
here=training/configs/ablation
for stage in default grit llm2vec-1-mntp llm2vec-2-simcse llm2vec-3-supervised unimae-1-mae unimae-2-supervised; do
  mmembed train "$here/$stage.yaml"
done
mmembed eval untouched=smollm2-135m-instruct llm2vec=runs/ablation/llm2vec/model unimae=runs/ablation/unimae/model \
  grit=runs/ablation/grit/model default=runs/ablation/default/model \
  --data data/tuxpaint.jsonl --data data/wordnet.jsonl --data data/wordnet-sts.jsonl --per-source --limit 500 \
  --task retrieval --task zeroshot --task text_retrieval --task sts --task perplexity --plot --out docs/results/ablation
