"""``python -m selfsr_edu``: the command-line interface (see ``cli.py``)."""
from selfsr_edu.cli import main

raise SystemExit(main())
