#!/bin/bash
# g1, the default (Gemma chain stage 2 + v8's post-training steps), against v8 and every peer in one run, then on the
# held-out multilingual stamps. Its chain: README "The shipped checkpoint".
set -e
cd "$(dirname "$0")/../.."
M=${M:-mmembed-multisource-g1}  # = runs/gemma-g1/model byte for byte (as of 13e2c19: check that commit out to rerun;
# since 7d9f93c a view reads the LLM's own states and g1 ships as g1.1); the run compared it with v8, the default then
source docs/results/peers-run-args.sh
mmembed eval gemma-g1=$M v8=mmembed-multisource-v8 "${PEERS_FIT[@]}" "${PEERS_DATA[@]}" --out docs/results/gemma-g1-peers
mmembed eval gemma-g1=$M v8=mmembed-multisource-v8 --data data/tuxpaint-multilingual.jsonl --task retrieval \
  --per-source --modality image --out docs/results/gemma-g1-multilingual
