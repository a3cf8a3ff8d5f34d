"""``python -m metakb.cli`` runs the command line."""

import sys

from metakb.cli import main

sys.exit(main())
