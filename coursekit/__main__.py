"""``python -m coursekit``: the command line (see :mod:`coursekit.cli`)."""

from .cli import main

raise SystemExit(main())
