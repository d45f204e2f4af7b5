"""Repository-wide pytest hooks: a report of how long each notebook took (nbval runs every notebook's cells as
tests; ``make test`` collects them from notebooks/). Printed at the end of the run and written to
``build/notebook_times.json``: a measurement to read, not a timed assertion."""
from __future__ import annotations

import json
import time
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


def pytest_configure(config):
    """nbval waits for each cell's reply in 1-second slices, not in one call of up to the cell timeout.

    Seen in this project (``book/build.py``'s docstring has the details): after an ``interact`` cell the
    kernel was idle with the cell done, while the client's single wait returned the reply only when its
    600-s timeout ran out (known upstream as jupyter/nbclient #312). A fresh poll every second lets a
    stuck reply through; the total wait, and so nbval's cell timeout, is unchanged."""
    try:
        from queue import Empty

        from nbval.kernel import RunningKernel
    except ImportError:
        return
    if getattr(RunningKernel.get_message, "_sliced", False):
        return
    original = RunningKernel.get_message

    def get_message(self, stream, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            try:
                return original(self, stream, timeout=1.0 if left is None else max(0.0, min(1.0, left)))
            except Empty:
                if left is not None and left <= 1.0:
                    raise

    get_message._sliced = True
    RunningKernel.get_message = get_message
