#!/bin/bash
# g1.4, a measured arm (not shipped): g1.3 with an image summary, its final image map reading EfficientNet-Lite0 blocks
# 10, 14 and 15's mean and spread over the image beside the last layer's features (docs/results/g1.4-image-summary-fit.md,
# whose command writes runs/g1.4/model; then mmembed calibrate as for g1.3), against g1.3 and every peer in one run,
# then on the held-out multilingual stamps.
exec bash "$(dirname "$0")/default-against-previous.sh" g1.4 "${M:-runs/g1.4/model}" g1.3 mmembed-multisource-g1.3
