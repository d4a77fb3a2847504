#!/bin/bash
# g1.6, the default: g1.5 with its final image map fitted as an ensemble of four seeds (fit-shortcut --final
# --final-members 4, docs/results/g1.6-ensemble-fit.md, whose command writes runs/g1.6e/model; then mmembed calibrate
# as for g1.5; shipped as mmembed-multisource-g1.6), against g1.5 and every peer in one run, then on the held-out
# multilingual stamps. M=runs/g1.6e/model runs the fit's own folder (the same files).
exec bash "$(dirname "$0")/default-against-previous.sh" g1.6 "${M:-mmembed-multisource-g1.6}" g1.5 mmembed-multisource-g1.5
