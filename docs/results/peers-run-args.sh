# The peers run's data, shared by the default's eval scripts (sourced): LiT fitted on the train splits of the six
# media sources the default was trained on; thirteen held-out sources; the four tasks. PEERS picks the peers (default
# all four; LiT's first fit on a fresh --peer-cache reads 12,815 items through the towers, 25 min on 2 cores, and keeps
# their features there, per item: a later run or refit reads them back, one with more sources runs only its new
# items). EXTRA_SOURCES names trained sources a default added (g1.7: digits): each joins LiT's fit data and the
# held-out data, so a script without it reruns as it ran.
read -r -a PEER_NAMES <<< "${PEERS:-lit asr minilm mpnet}"
PEERS_FIT=(--baselines "${PEER_NAMES[@]}" --fit-data data/tuxpaint.jsonl --fit-data data/speech.jsonl
  --fit-data data/emoji.jsonl --fit-data data/fluent-emoji.jsonl --fit-data data/instruments.jsonl
  --fit-data data/tabler-icons.jsonl)
PEERS_DATA=(--data data/tuxpaint.jsonl --data data/speech.jsonl --data data/speech-voices.jsonl
  --data data/speech-emoji.jsonl --data data/emoji.jsonl
  --data data/fluent-emoji.jsonl --data data/fashion-mnist.jsonl --data data/instruments.jsonl
  --data data/sonic-pi.jsonl --data data/tabler-icons.jsonl --data data/glyphs.jsonl --data data/wordnet.jsonl
  --data data/wordnet-sts.jsonl
  --per-source --limit 500 --task retrieval --task zeroshot --task text_retrieval --task sts)
read -r -a EXTRA_NAMES <<< "${EXTRA_SOURCES:-}"
for extra in "${EXTRA_NAMES[@]}"; do
  PEERS_FIT+=(--fit-data "data/$extra.jsonl")
  PEERS_DATA+=(--data "data/$extra.jsonl")
done
