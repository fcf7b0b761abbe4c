"""`python -m kgan.cli`: the `kgan` command."""

import sys

from kgan.cli import main

sys.exit(main())
