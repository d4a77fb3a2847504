#!/bin/bash
# g1.2, the default (g1.1 with a final image shortcut: a map from the image tower onto its final vectors, the weight
# chosen on never-trained glyphs and Fashion-MNIST train rows), against g1.1 and every peer in one run, then on the
# held-out multilingual stamps. Its chain: README "The shipped checkpoint".
set -e
cd "$(dirname "$0")/../.."
M=${M:-mmembed-multisource-g1.2}
source docs/results/peers-run-args.sh
mmembed eval g1.2=$M g1.1=mmembed-multisource-g1.1 "${PEERS_FIT[@]}" "${PEERS_DATA[@]}" --out docs/results/gemma-g1.2-peers
mmembed eval g1.2=$M g1.1=mmembed-multisource-g1.1 --data data/tuxpaint-multilingual.jsonl --task retrieval \
  --per-source --modality image --out docs/results/gemma-g1.2-multilingual
