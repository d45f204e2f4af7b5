"""Build the rendered edition of the course: every notebook executed, as static HTML.

    SELFSR_QUICK=1 python book/build.py --out build/book      # what `make book` runs
    python book/build.py --only '01_*' --out /tmp/book         # a subset (repeat --only)
    python book/build.py --exclude '05_*'                      # everything but ...

It executes ``notebooks/[0-9][0-9]_*.ipynb`` in order (each in a fresh kernel, in the
notebooks' folder, with matplotlib's inline backend so figures become outputs), and
writes into ``--out``:

* ``index.html``: the course title, how to run it, every notebook with its title and
  first paragraph (from its first markdown cell), a link to its page and the time it
  took to execute in this build;
* one ``NN_name.html`` per notebook, with every output: figures embedded as PNG
  (``data:image/png;base64``), printed tables, and each widget as a static snapshot of
  its first output with a note that it is interactive in JupyterLab; a navigation bar
  (previous / index / next) on top of each;
* ``teach.html``: ``book/teach.md`` rendered, with two tables made at build time: the
  measured timings and every exercise from :mod:`selfsr_edu.exercises`;
* ``timings.json``: notebook file name -> seconds (kernel start included), the
  quick-mode "test-suite report";
* ``style.css``: one small stylesheet shared by all pages.

A cell that raises stops the build at once (fail fast) with exit status 1 and a message
naming the notebook and the cell; nothing after it is built.

Why nbclient + nbconvert and not Jupyter Book: both come with JupyterLab (no new
dependency), work offline, and are small enough to read in one sitting; Jupyter Book
would add a Sphinx tool chain (dozens of packages) for a one-level table of contents
that this script writes in a few lines. The pages load MathJax from its CDN (as
nbconvert's own templates do): offline, equations show as their TeX source.
"""
from __future__ import annotations

import argparse
import ast
import datetime as _dt
import fnmatch
import html
import inspect
import json
import os
import platform
import re
import sys
import textwrap
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter
from nbconvert.filters import markdown2html_mistune

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
COURSE_TITLE = "SelfSR, step by step"
COURSE_SUBTITLE = "Self-conditioned face super-resolution in the wild, taught in Jupyter notebooks"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
MATHJAX = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js?config=TeX-AMS_CHTML-full,Safe"


class BuildError(Exception):
    """A notebook failed: the message names it and the cell; ``detail`` is the traceback."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail


# ---------------------------------------------------------------------------------------
# Finding and executing notebooks
# ---------------------------------------------------------------------------------------


def find_notebooks(folder: Path, only: list[str] | None, exclude: list[str] | None) -> list[Path]:
    """The numbered notebooks of ``folder`` in order, filtered by file-name patterns."""
    paths = sorted(folder.glob(NOTEBOOK_GLOB))
    if only:
        paths = [p for p in paths if any(fnmatch.fnmatch(p.name, pat) for pat in only)]
    if exclude:
        paths = [p for p in paths if not any(fnmatch.fnmatch(p.name, pat) for pat in exclude)]
    return paths


def _cell_label(nb, index: int) -> str:
    cell = nb.cells[index]
    code_no = sum(1 for c in nb.cells[: index + 1] if c.cell_type == "code")
    first = next((line for line in cell.source.splitlines() if line.strip()), "")
    return f"cell {index + 1} of {len(nb.cells)} (code cell {code_no}: {first.strip()[:70]!r})"


class _SlicedPollClient(NotebookClient):
    """nbclient, waiting for each cell's reply in 1-second slices.

    Measured here: after an ``interact`` cell the kernel went idle (its execution count had moved on)
    while nbclient kept waiting in one ``shell_channel.get_msg(timeout=600)`` call, and got the reply
    only when that timeout ran out: a cell of seconds took 600 s (known upstream as jupyter/nbclient
    #312). Asking again every second lets a stuck reply through at the next poll; the cell's own
    ``timeout`` still applies (the slices never go past its deadline)."""

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        channel = kc.shell_channel
        get_msg = channel.get_msg

        async def sliced(timeout=None):
            import queue

            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                left = None if deadline is None else deadline - time.monotonic()
                try:
                    return await get_msg(timeout=1.0 if left is None else max(0.0, min(1.0, left)))
                except queue.Empty:
                    if left is not None and left <= 1.0:
                        raise

        channel.get_msg = sliced
        return kc


def execute(path: Path, timeout: int, kernel: str, cell_times: dict | None = None,
            client_class: type = _SlicedPollClient) -> tuple[nbformat.NotebookNode, float, str]:
    """Run every cell of ``path`` in a fresh kernel: the executed notebook, seconds, and a note
    (kernel start, slowest cell). ``cell_times``, if given, receives cell index -> seconds;
    ``client_class`` is the client (``book/stall_check.py`` passes plain nbclient as a control)."""
    nb = nbformat.read(path, as_version=4)
    current = {"index": None}
    starts: dict[int, float] = {}

    def on_cell_start(cell, cell_index, **_):
        current["index"] = cell_index
        starts[cell_index] = time.perf_counter()

    client = client_class(
        nb, timeout=timeout, kernel_name=kernel, store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}}, on_cell_start=on_cell_start,
    )
    start = time.perf_counter()
    try:
        client.execute()
    except Exception as exc:  # CellExecutionError, CellTimeoutError, DeadKernelError, ...
        where = "before the first cell (kernel start)" if current["index"] is None else _cell_label(nb, current["index"])
        if isinstance(exc, CellExecutionError):
            why = f"{exc.ename}: {exc.evalue}"
        else:
            why = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
        detail = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()[-30:]
        raise BuildError(f"notebook {path.name} failed in {where}\n  {why}\n  ({path})", "\n".join(detail)) from exc
    end = time.perf_counter()
    marks = sorted(starts.items()) + [(None, end)]
    cells = {i: t1 - t0 for (i, t0), (_, t1) in zip(marks, marks[1:])}   # includes the kernel's cleanup at the end
    if cell_times is not None:
        cell_times.update(cells)
    slowest = max(cells, key=cells.get) if cells else None
    first = min(starts.values()) if starts else end
    detail = f"kernel start {first - start:.1f} s" + (f", slowest: cell {slowest + 1} {cells[slowest]:.1f} s" if cells else "")
    return nb, end - start, detail


# ---------------------------------------------------------------------------------------
# Widgets: replace each live widget by the outputs it showed, plus a note
# ---------------------------------------------------------------------------------------


def _control_summary(state: dict, model_id: str) -> list[str]:
    """'label = value' for every control below ``model_id`` (sliders, dropdowns, ...)."""
    out, seen, todo = [], set(), [model_id]
    while todo:
        mid = todo.pop(0)
        if mid in seen or mid not in state:
            continue
        seen.add(mid)
        s = state[mid]["state"]
        for child in s.get("children", []):
            todo.append(str(child).replace("IPY_MODEL_", ""))
        if "value" in s and s.get("description"):
            value = s["value"]
            if "index" in s and s.get("_options_labels"):
                value = s["_options_labels"][s["index"]]
            out.append(f"{s['description']} = {value}")
    return out


def _display_text(state: dict, model_id: str) -> str:
    """The text a display-only widget showed: labels, HTML values, progress as value/max."""
    parts, seen, todo = [], set(), [model_id]
    while todo:
        mid = todo.pop(0)
        if mid in seen or mid not in state:
            continue
        seen.add(mid)
        model, s = state[mid], state[mid]["state"]
        for child in s.get("children", []):
            todo.append(str(child).replace("IPY_MODEL_", ""))
        name = model.get("model_name", "")
        if "Progress" in name and "value" in s:
            parts.append(f"{s['value']}/{s.get('max', '?')}")
        elif name in ("HTMLModel", "LabelModel", "HTMLMathModel") and str(s.get("value", "")).strip():
            parts.append(html.unescape(re.sub(r"<[^>]+>", "", str(s["value"]))).strip())
    return " ".join(parts)


def _captured_outputs(state: dict, model_id: str) -> list:
    """The outputs of the Output widgets below ``model_id`` (what an ``interact`` drew)."""
    outputs, seen, todo = [], set(), [model_id]
    while todo:
        mid = todo.pop(0)
        if mid in seen or mid not in state:
            continue
        seen.add(mid)
        model = state[mid]
        if model.get("model_name") == "OutputModel":
            outputs.extend(model["state"].get("outputs", []))
        for child in model["state"].get("children", []):
            todo.append(str(child).replace("IPY_MODEL_", ""))
    return outputs


def snapshot_widgets(nb) -> int:
    """Replace widget views by static snapshots; drop the widget state. Returns the count."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        new = []
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_VIEW) if out.get("output_type") in ("display_data", "execute_result") else None
            if view is None:
                new.append(out)
                continue
            count += 1
            controls = _control_summary(state, view.get("model_id", ""))
            if controls:
                note = ('<div class="widget-note"><strong>Interactive in JupyterLab.</strong> '
                        "This page shows a static snapshot at the widget's starting values: "
                        + html.escape(", ".join(controls))
                        + ". Run the notebook (<code>make lab</code>) to move the controls.</div>")
            else:  # a display-only widget, e.g. a progress bar: its last state as text
                text = _display_text(state, view.get("model_id", ""))
                note = ('<div class="widget-note">A widget (live in JupyterLab); its final state: '
                        f"<code>{html.escape(text or 'no text')}</code></div>")
            new.append(nbformat.v4.new_output("display_data", data={"text/html": note}))
            new.extend(nbformat.from_dict(o) for o in _captured_outputs(state, view.get("model_id", "")))
        cell.outputs = new
    nb.metadata.pop("widgets", None)
    return count


# ---------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------

CSS = """
:root { --accent: #1f5f8b; --muted: #5b6470; --line: #dde3ea; --code: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.55 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1d2329; }
nav.book { position: sticky; top: 0; z-index: 10; display: flex; gap: 1.2em; align-items: center;
  padding: .55em 1.2em; background: var(--accent); font-size: .95em; }
nav.book a { color: #fff; text-decoration: none; }
nav.book a:hover { text-decoration: underline; }
nav.book .title { font-weight: 600; margin-right: auto; }
nav.book .off { color: #ffffff80; }
main { max-width: 1000px; margin: 0 auto; padding: 1.5em 1.2em 4em; }
h1, h2, h3 { line-height: 1.25; } h1 { font-size: 1.9em; } a { color: var(--accent); }
.anchor-link { visibility: hidden; margin-left: .3em; text-decoration: none; }
h1:hover .anchor-link, h2:hover .anchor-link, h3:hover .anchor-link { visibility: visible; }
table { border-collapse: collapse; margin: .8em 0; font-size: .93em; }
th, td { border: 1px solid var(--line); padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: var(--code); }
pre, code { font-family: "SFMono-Regular", Menlo, Consolas, monospace; font-size: .88em; }
pre { overflow-x: auto; margin: 0; padding: .6em .8em; }
img { max-width: 100%; height: auto; }
.subtitle, .meta { color: var(--muted); }
/* notebook cells (nbconvert's basic template: classic class names) */
.cell { margin: .9em 0; }
.prompt { display: none; }
.input_area .highlight, .input_area pre { background: var(--code); border-left: 3px solid var(--accent); border-radius: 3px; }
.output_area { margin: .35em 0 .35em .9em; overflow-x: auto; }
.output_text pre { padding: .2em 0; }
.output_stderr { background: #fdf1f1; }
.output_html table, .rendered_html table { font-size: .9em; }
.text_cell_render table, main > table { display: block; overflow-x: auto; }
.widget-note { background: #eef6fb; border: 1px solid #c5dceb; border-radius: 4px; padding: .45em .8em; font-size: .93em; }
.ansi-red-fg { color: #c0392b; } .ansi-green-fg { color: #1e8449; } .ansi-yellow-fg { color: #9a7d0a; }
.ansi-blue-fg { color: #1f5f8b; } .ansi-cyan-fg { color: #117a8b; } .ansi-bold { font-weight: bold; }
/* index */
ol.course { padding-left: 0; list-style: none; }
ol.course li { border-top: 1px solid var(--line); padding: .7em 0; }
ol.course .time { float: right; color: var(--muted); font-size: .9em; }
ol.course h2 { font-size: 1.15em; margin: 0 0 .3em; }
ol.course p { margin: .2em 0; }
footer { color: var(--muted); font-size: .85em; border-top: 1px solid var(--line); margin-top: 3em; padding-top: .8em; }
"""


def page(title: str, body: str, nav: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="style.css">
<script type="text/x-mathjax-config">
MathJax.Hub.Config({{tex2jax: {{inlineMath: [['$','$'], ['\\\\(','\\\\)']], processEscapes: true,
  processEnvironments: true}}, TeX: {{equationNumbers: {{autoNumber: "AMS"}}}}, messageStyle: "none"}});
</script>
<script async src="{MATHJAX}"></script>
</head>
<body>
{nav or navbar()}
<main>
{body}
</main>
</body>
</html>
"""


def navbar(prev: tuple[str, str] | None = None, nxt: tuple[str, str] | None = None, with_pages: bool = False) -> str:
    def link(target, text):
        return f'<a href="{target}">{html.escape(text)}</a>' if target else f'<span class="off">{html.escape(text)}</span>'
    parts = [f'<a class="title" href="index.html">{html.escape(COURSE_TITLE)}</a>']
    if with_pages:
        parts.append(link(prev[0] if prev else None, "← " + (prev[1] if prev else "previous")))
        parts.append(link("index.html", "index"))
        parts.append(link(nxt[0] if nxt else None, (nxt[1] if nxt else "next") + " →"))
    else:
        parts.append(link("index.html", "index"))
    parts.append(link("teach.html", "how to teach with this"))
    return '<nav class="book">' + " ".join(parts) + "</nav>"


def summary(nb) -> tuple[str, str]:
    """(title, first paragraph as markdown) from the notebook's first markdown cell."""
    md = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    blocks = [b.strip() for b in re.split(r"\n\s*\n", md) if b.strip()]
    title = next((b.lstrip("#").strip() for b in blocks if b.startswith("#")), "")
    para = next((b for b in blocks if not b.startswith(("#", "$$", "|", ">", "```"))), "")
    return title.splitlines()[0] if title else "", para


def render_notebook(nb, resources_path: Path) -> str:
    exporter = HTMLExporter(template_name="basic", embed_images=True, anchor_link_text="¶")
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"path": str(resources_path)}})
    return body


def pygments_css() -> str:
    from pygments.formatters import HtmlFormatter
    return HtmlFormatter(style="default").get_style_defs(".highlight")


def md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def timings_table(timings: dict[str, float], pages: dict[str, str]) -> str:
    rows = ["| notebook | seconds |", "|---|---:|"]
    for name, sec in timings.items():
        rows.append(f"| [{name}]({pages[name]}) | {sec:.1f} |")
    rows.append(f"| **all {len(timings)} notebooks** | **{sum(timings.values()):.1f}** |")
    return "\n".join(rows)


def _checker_facts(fn) -> tuple[str, int]:
    """What a checker says when the answer is right (its returned string), and how many
    typical mistakes it tells apart (its ``raise _Wrong`` sites), read from its source."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return "", 0
    success, wrong = "", 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and node.value is not None and not success:
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                success = node.value.value
            elif isinstance(node.value, ast.JoinedStr):
                success = "".join(v.value if isinstance(v, ast.Constant) else "…" for v in node.value.values)
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and getattr(node.exc.func, "id", "") == "_Wrong":
            wrong += 1
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_diagnose" and len(node.args) > 1 \
                and isinstance(node.args[1], ast.Dict):
            wrong += len(node.args[1].keys)
    return success, wrong


def exercises_table(pages: dict[str, str]) -> str:
    from selfsr_edu.exercises import exercises
    rows = ["| id | notebook | task | equation | a right answer gets (the checker's words) | typical mistakes it names |",
            "|---|---|---|---|---|---:|"]
    for ex in exercises():
        nb_cell = f"[{ex.notebook}]({pages[ex.notebook]})" if ex.notebook in pages else ex.notebook
        success, wrong = _checker_facts(ex.checker)
        rows.append(f"| {md_cell(ex.id)} | {nb_cell} | {md_cell(ex.title)} | {md_cell(ex.equation)} | "
                    f"{md_cell(success) or '—'} | {wrong or '—'} |")
    return "\n".join(rows)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = "no GPU"
    try:
        import torch
        if torch.cuda.is_available():
            gpu = "GPU " + torch.cuda.get_device_name(0)
    except Exception:  # pragma: no cover - torch is a dependency
        pass
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    return f"{cpu}, {os.cpu_count()} logical cores, OMP_NUM_THREADS={threads}, {gpu}"


def mode() -> str:
    import selfsr_edu
    return "quick mode (SELFSR_QUICK=1)" if selfsr_edu.QUICK else "full mode (SELFSR_QUICK=0)"


# ---------------------------------------------------------------------------------------
# The build
# ---------------------------------------------------------------------------------------


def build(notebooks: list[Path], out: Path, timeout: int, kernel: str, teach_md: Path) -> dict[str, float]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "style.css").write_text(CSS + "\n/* code highlighting (pygments) */\n" + pygments_css())
    pages = {p.name: p.stem + ".html" for p in notebooks}
    timings: dict[str, float] = {}
    entries = []
    t_all = time.perf_counter()
    for i, path in enumerate(notebooks):
        print(f"book: executing {path.name} ...", flush=True)
        nb, seconds, detail = execute(path, timeout, kernel)
        timings[path.name] = round(seconds, 1)
        n_widgets = snapshot_widgets(nb)
        title, para = summary(nb)
        prev = (pages[notebooks[i - 1].name], notebooks[i - 1].stem) if i > 0 else None
        nxt = (pages[notebooks[i + 1].name], notebooks[i + 1].stem) if i + 1 < len(notebooks) else None
        body = render_notebook(nb, path.parent)
        body += (f'\n<footer>Executed {_dt.date.today().isoformat()} in {seconds:.1f} s, {mode()}; '
                 f'source: <code>notebooks/{html.escape(path.name)}</code>.</footer>')
        (out / pages[path.name]).write_text(page(title or path.stem, body, navbar(prev, nxt, with_pages=True)))
        entries.append((path.name, title, para))
        print(f"book: {path.name}: {seconds:.1f} s ({detail}; {n_widgets} widget(s) as snapshots)", flush=True)
    total = time.perf_counter() - t_all
    (out / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")

    info = f"{mode()}, on {machine()}"
    items = []
    for name, title, para in entries:
        items.append(f'<li><span class="time">{timings[name]:.1f} s</span>'
                     f'<h2><a href="{pages[name]}">{html.escape(title or name)}</a></h2>'
                     f'{markdown2html_mistune(para)}<p class="meta"><code>notebooks/{html.escape(name)}</code></p></li>')
    index = f"""<h1>{html.escape(COURSE_TITLE)}</h1>
<p class="subtitle">{html.escape(COURSE_SUBTITLE)}</p>
<p>This is the rendered edition of the <code>selfsr_edu</code> course: every notebook below was executed
for this build, and every figure and table is its real output. To run the notebooks yourself, change the
code and move the widgets:</p>
<pre>make lab     # creates .venv, installs everything, opens JupyterLab on notebooks/
make test    # every unit test and every notebook (quick mode)
make book    # rebuilds these pages (build/book/)</pre>
<p>Work through the notebooks in order; each ends with exercises checked by
<code>selfsr_edu.exercises.check</code>. Teachers: see <a href="teach.html">how to teach with this</a>.</p>
<ol class="course">
{''.join(items)}
</ol>
<footer>Built {_dt.datetime.now().isoformat(timespec='minutes')} in {total:.0f} s ({info}).
Times include each kernel's start. <a href="timings.json">timings.json</a></footer>"""
    (out / "index.html").write_text(page(COURSE_TITLE, index))

    text = teach_md.read_text()
    text = text.replace("{{timings}}", timings_table(timings, pages) + f"\n\nMeasured in this build: {info}.")
    text = text.replace("{{exercises}}", exercises_table(pages))
    text = text.replace("{{built}}", _dt.datetime.now().isoformat(timespec="minutes"))
    (out / "teach.html").write_text(page("How to teach with this · " + COURSE_TITLE,
                                         markdown2html_mistune(text)))
    print(f"book: wrote {out}/index.html ({len(notebooks)} notebooks, {total:.1f} s)", flush=True)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "book", help="output folder (default build/book)")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", help="folder of NN_*.ipynb (default notebooks/)")
    parser.add_argument("--only", action="append", metavar="PATTERN",
                        help="build only notebooks whose file name matches (fnmatch, e.g. '01_*'); repeatable")
    parser.add_argument("--exclude", action="append", metavar="PATTERN", help="skip notebooks whose file name matches; repeatable")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    parser.add_argument("--teach", type=Path, default=HERE / "teach.md", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    notebooks = find_notebooks(args.notebooks, args.only, args.exclude)
    if not notebooks:
        print(f"book: error: no notebook {NOTEBOOK_GLOB} in {args.notebooks} matches "
              f"--only {args.only} --exclude {args.exclude}", file=sys.stderr)
        return 2
    # Figures must become outputs: an inherited MPLBACKEND=Agg (the tests set it) would drop them.
    os.environ["MPLBACKEND"] = INLINE_BACKEND
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    try:
        build(notebooks, args.out, args.timeout, args.kernel, args.teach)
    except BuildError as exc:
        if exc.detail:
            print(exc.detail, file=sys.stderr)
        print(f"book: FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
