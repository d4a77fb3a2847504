#!/bin/bash
# g1.1, the default (g1's weights, its view's audio share fitted with the transcript weight on never-trained audio),
# against g1's shares on the same code and every peer in one run, then on the held-out multilingual stamps.
# Its chain: README "The shipped checkpoint". g1's shares (sounds at v7's 0.1) are rebuilt from the shipped folder.
set -e
cd "$(dirname "$0")/../.."
M=${M:-mmembed-multisource-g1.1}
G1=${G1:-runs/g1-shares}
mkdir -p "$(dirname "$G1")" && rm -rf "$G1" && cp -r "$(python -c 'import mmembed.checkpoints as c; print(c.shipped_checkpoint("'"$M"'") or "'"$M"'")')" "$G1"
python -c "from pathlib import Path; from mmembed.view import set_saved_view_shares as s; s(Path('$G1'), {'audio': 0.1})"
source docs/results/peers-run-args.sh
mmembed eval g1.1=$M g1=$G1 "${PEERS_FIT[@]}" "${PEERS_DATA[@]}" --out docs/results/gemma-g1.1-peers
mmembed eval g1.1=$M v8=mmembed-multisource-v8 --data data/tuxpaint-multilingual.jsonl --task retrieval \
  --per-source --modality image --out docs/results/gemma-g1.1-multilingual
