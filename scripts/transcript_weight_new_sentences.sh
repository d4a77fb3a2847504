#!/usr/bin/env bash
# The transcript weight chosen on new sentences (speech-emoji: every emoji name,
# spoken by held-out voices, which no source speaks; sonic-pi: sounds no source
# trains on) against g1.1's choice on speech's own sentences (speech-voices).
# Both on g1.2, which has no final audio map. About 6 min each on 2 CPU cores.
set -euo pipefail
MODEL=${1:-mmembed-multisource-g1.2}
echo "== speech-emoji + sonic-pi"
mmembed transcript-weight --model "$MODEL" --data data/speech-emoji.jsonl --data data/sonic-pi.jsonl --limit 300
echo "== speech-voices (g1.1's choice)"
mmembed transcript-weight --model "$MODEL" --data data/speech-voices.jsonl --limit 300
