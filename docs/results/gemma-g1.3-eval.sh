#!/bin/bash
# g1.3, the default (g1.2 with a final audio shortcut beside its image one, both stored in float16; the audio weight
# chosen on held-out training captions and never-trained Sonic Pi train rows), against g1.2 and every peer in one run,
# then on the held-out multilingual stamps. Its chain: README "The shipped checkpoint".
exec bash "$(dirname "$0")/default-against-previous.sh" g1.3 "${M:-mmembed-multisource-g1.3}" g1.2 mmembed-multisource-g1.2
