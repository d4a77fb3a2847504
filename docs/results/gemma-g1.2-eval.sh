#!/bin/bash
# g1.2 (g1.1 with a final image shortcut: a map from the image tower onto its final vectors, the weight chosen on
# held-out training captions and never-trained glyphs and Fashion-MNIST train rows), against g1.1 and every peer in one
# run, then on the held-out multilingual stamps. Its chain: README "The shipped checkpoint".
exec bash "$(dirname "$0")/default-against-previous.sh" g1.2 "${M:-mmembed-multisource-g1.2}" g1.1 mmembed-multisource-g1.1
