#!/bin/bash
# g1.5, the default (g1.3 with the transcript weight and the final audio map's weight chosen on new sentences, and a
# final image map reading the standardized image summary of blocks 10, 14 and 15), against g1.3 and every peer in one
# run, then on the held-out multilingual stamps. Its chain: README "The shipped checkpoint".
exec bash "$(dirname "$0")/default-against-previous.sh" g1.5 "${M:-mmembed-multisource-g1.5}" g1.3 mmembed-multisource-g1.3
