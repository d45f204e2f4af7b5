"""The rendered edition (`make book`, book/build.py) on one small notebook, and on a broken one.

The full build runs every notebook; here the builder runs on notebook 01 only (about 15 s)
and on a two-cell notebook that raises, which must fail the build, naming the notebook and
the cell.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "book" / "build.py"


def run_builder(*args, cache: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, SELFSR_QUICK="1", SELFSR_CACHE=str(cache), MPLBACKEND="Agg")  # the builder must override Agg
    return subprocess.run([sys.executable, str(BUILD), *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    proc = run_builder("--only", "01_*", "--out", out, cache=tmp_path_factory.mktemp("cache"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def one_notebook_name() -> str:
    names = sorted(p.name for p in (ROOT / "notebooks").glob("01_*.ipynb"))
    assert len(names) == 1, names
    return names[0]


def test_index_links_the_notebook_page(book):
    name = one_notebook_name()
    page = Path(name).stem + ".html"
    index = (book / "index.html").read_text()
    assert f'href="{page}"' in index
    assert 'href="teach.html"' in index
    title = nbformat.read(ROOT / "notebooks" / name, 4).cells[0].source.splitlines()[0].lstrip("# ").strip()
    assert title.split("(")[0].strip() in index                  # the title from the first markdown cell
    timings = json.loads((book / "timings.json").read_text())
    assert list(timings) == [name] and timings[name] > 0


def test_notebook_page_embeds_figures_and_navigation(book):
    html = (book / (Path(one_notebook_name()).stem + ".html")).read_text()
    assert "data:image/png;base64," in html
    assert 'href="index.html"' in html and 'href="style.css"' in html
    assert "Interactive in JupyterLab" in html                    # notebook 01 has a widget
    assert "application/vnd.jupyter.widget" not in html


def test_teaching_page_has_generated_tables(book):
    from selfsr_edu.exercises import exercises

    teach = (book / "teach.html").read_text()
    assert "{{" not in teach
    for ex in exercises():                                       # the exercises table, from the registry
        assert f"<td>{ex.id}</td>" in teach
    assert "no GPU timing has been measured yet" in teach
    name = one_notebook_name()                                   # the timings table, from this build
    seconds = json.loads((book / "timings.json").read_text())[name]
    assert re.search(rf"{re.escape(name)}</a></td>\s*<td[^>]*>{seconds:.1f}</td>", teach), "no timings row"


def test_failing_notebook_fails_the_build(tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# 98 · Fine\n\nNothing here."), nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, folder / "98_fine.ipynb")
    nb.cells = [nbformat.v4.new_markdown_cell("# 99 · Broken\n\nIt raises."), nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("y = x / 0")]
    nbformat.write(nb, folder / "99_broken.ipynb")
    proc = run_builder("--notebooks", folder, "--out", tmp_path / "out", cache=tmp_path / "cache")
    assert proc.returncode == 1
    assert "99_broken.ipynb" in proc.stderr and "cell 3" in proc.stderr and "ZeroDivisionError" in proc.stderr
    assert (tmp_path / "out" / "98_fine.html").exists()          # built before the failure...
    assert not (tmp_path / "out" / "index.html").exists()        # ...but no index: the build failed


# ---- book/stall_check.py: the headless-stall check (run N times, flag a cell far over its median) ----

STALL = ROOT / "book" / "stall_check.py"


def test_stalls_flags_only_cells_far_over_their_median():
    sys.path.insert(0, str(ROOT / "book"))
    from stall_check import stalls

    runs = [{"cells": {0: 1.0, 1: 2.0}}, {"cells": {0: 1.2, 1: 2.5}}, {"cells": {0: 1.1, 1: 602.0}}]
    assert stalls(runs, 60) == [{"run": 2, "cell": 2, "seconds": 602.0, "median": 2.5}]
    assert stalls(runs[:2], 60) == []
    assert stalls(runs, 1000) == []


def test_stall_check_finds_a_slow_run_and_passes_steady_ones(tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    counter = tmp_path / "count"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# 97 · Slow once"), nbformat.v4.new_code_cell(
        f"import pathlib, time\np = pathlib.Path({str(counter)!r})\nn = int(p.read_text()) + 1 if p.exists() else 1\n"
        "p.write_text(str(n))\nif n == 3:\n    time.sleep(10)")]
    nbformat.write(nb, folder / "97_slow_once.ipynb")
    env = dict(os.environ, SELFSR_QUICK="1", MPLBACKEND="Agg")

    def check(*args):
        return subprocess.run([sys.executable, str(STALL), "--notebooks", str(folder), *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)

    # The slow run sleeps 10 s against a 5-s threshold: a busy CI machine once took 3.5 s over a trivial cell, which
    # with a 4-s sleep and a 2-s threshold moved the median enough to hide the slow run.
    proc = check("--runs", "3", "--stall", "5", "--out", str(tmp_path / "r.json"))
    assert proc.returncode == 1, proc.stdout + proc.stderr              # the third run's cell stood out by 10 s
    report = json.loads((tmp_path / "r.json").read_text())
    found = report["notebooks"]["97_slow_once.ipynb"]["stalls"]
    assert [(s["run"], s["cell"]) for s in found] == [(2, 2)] and found[0]["seconds"] >= 10
    assert len(report["notebooks"]["97_slow_once.ipynb"]["seconds"]) == 3
    counter.write_text("10")                                            # no more slow runs
    proc = check("--runs", "2", "--stall", "5")
    assert proc.returncode == 0, proc.stdout + proc.stderr
