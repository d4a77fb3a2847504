#!/bin/bash
# One default's evidence run: NAME=MODEL against the default before it (PREVIOUS=PREVIOUS_MODEL) and every peer in one
# run (docs/results/gemma-NAME-peers), then on the held-out multilingual stamps (docs/results/gemma-NAME-multilingual).
# Usage: default-against-previous.sh NAME MODEL PREVIOUS PREVIOUS_MODEL (called by the gemma-*-eval.sh scripts).
set -e
[ $# -eq 4 ] || { echo "usage: $0 NAME MODEL PREVIOUS PREVIOUS_MODEL" >&2; exit 2; }
NAME=$1 MODEL=$2 PREVIOUS=$3 PREVIOUS_MODEL=$4
cd "$(dirname "$0")/../.."
source docs/results/peers-run-args.sh
mmembed eval "$NAME=$MODEL" "$PREVIOUS=$PREVIOUS_MODEL" "${PEERS_FIT[@]}" "${PEERS_DATA[@]}" \
  --out "docs/results/gemma-$NAME-peers"
mmembed eval "$NAME=$MODEL" "$PREVIOUS=$PREVIOUS_MODEL" --data data/tuxpaint-multilingual.jsonl --task retrieval \
  --per-source --modality image --out "docs/results/gemma-$NAME-multilingual"
