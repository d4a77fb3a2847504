#!/bin/bash
# g1.7, the default: g1.6's chain with handwritten digits (mmembed fetch digits, 30 of each) among the final image
# maps' training pairs (fit-shortcut --final ... --data data/digits.jsonl --final-members 4 --final-per-caption 30,
# docs/results/g1.7-digits-fit.md, writes runs/g1.7/model; then mmembed calibrate as for g1.6; shipped as
# mmembed-multisource-g1.7), against g1.6 and every peer in one run, LiT fitted on the digits too, then on the held-out
# multilingual stamps. The measured run read the fit's own folder, M=runs/g1.7/model (the shipped files).
export EXTRA_SOURCES=digits
exec bash "$(dirname "$0")/default-against-previous.sh" g1.7 "${M:-mmembed-multisource-g1.7}" g1.6 mmembed-multisource-g1.6
