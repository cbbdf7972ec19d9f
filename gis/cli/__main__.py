"""``python -m gis.cli`` runs the patrol command."""

from __future__ import annotations

import sys

from gis.cli import main

sys.exit(main())
