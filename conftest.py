"""Repository-wide pytest hooks: a report of how long each notebook took (nbval runs every notebook's cells as
tests; ``make test`` collects them from notebooks/). Printed at the end of the run and written to
``build/notebook_times.json``: a measurement to read, not a timed assertion."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

_NOTEBOOK_SECONDS: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _NOTEBOOK_SECONDS[Path(path).name] += report.duration     # setup, call and teardown of every cell


def pytest_terminal_summary(terminalreporter):
    if not _NOTEBOOK_SECONDS:
        return
    terminalreporter.section("notebook times (quick mode: the sum of each notebook's cells)")
    for name, seconds in sorted(_NOTEBOOK_SECONDS.items()):
        terminalreporter.write_line(f"{name:36s} {seconds:6.1f} s{'   (over the 60 s goal)' if seconds > 60 else ''}")
    out = Path(__file__).parent / "build" / "notebook_times.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({k: round(v, 1) for k, v in sorted(_NOTEBOOK_SECONDS.items())}, indent=2))
    terminalreporter.write_line(f"written: {out}")
