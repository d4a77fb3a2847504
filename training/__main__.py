"""``python -m training CONFIG.yaml``: the same as ``mmembed train CONFIG.yaml``."""

import sys

from .cli import main

sys.exit(main())
