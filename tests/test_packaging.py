"""The project's own files agree with each other: dependencies, notebooks, CLI, public API."""
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _norm(req: str) -> str:
    """Canonical form of a requirement: lower-case name with '-', no spaces."""
    req = req.strip().replace(" ", "")
    m = re.match(r"^([A-Za-z0-9_.\-]+)(.*)$", req)
    return re.sub(r"[-_.]+", "-", m.group(1)).lower() + m.group(2)


def _environment_pip_requirements():
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    reqs = []
    for line in lines[start + 1:]:
        stripped = line.split("#", 1)[0].strip()
        if not stripped:
            continue
        if not stripped.startswith("- "):
            break
        reqs.append(stripped[2:].strip())
    return reqs


def test_environment_yml_agrees_with_pyproject():
    project = _pyproject()["project"]
    expected = {_norm(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        expected |= {_norm(r) for r in extra}
    reqs = _environment_pip_requirements()
    assert "-e .[dev]" in reqs, "environment.yml must install the package itself with its extras"
    listed = {_norm(r) for r in reqs if not r.startswith("-e")}
    assert listed == expected, (
        f"only in environment.yml: {sorted(listed - expected)}; only in pyproject.toml: {sorted(expected - listed)}")
    assert "python=3.11" in (ROOT / "environment.yml").read_text()


def test_dev_extra_is_test_plus_faces():
    extras = _pyproject()["project"]["optional-dependencies"]
    assert {_norm(r) for r in extras["dev"]} == {_norm(r) for r in extras["test"] + extras["faces"]}


def test_notebooks_are_committed_without_outputs():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks, "no notebooks found"
    for nb_path in notebooks:
        nb = json.loads(nb_path.read_text())
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "code":
                assert not cell.get("outputs"), f"{nb_path.name} cell {i} has outputs; strip them"
                assert cell.get("execution_count") is None, f"{nb_path.name} cell {i} has an execution count"


def test_notebooks_are_numbered_and_unique():
    names = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    numbers = [n.split("_", 1)[0] for n in names]
    assert all(re.fullmatch(r"\d\d", k) for k in numbers), names
    assert [int(k) for k in numbers] == list(range(len(names))), f"numbers must be 00, 01, ... with no gap or twin: {names}"


def test_cli_help_lists_verbs():
    out = subprocess.run([sys.executable, "-m", "selfsr_edu", "--help"], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "usage: python -m selfsr_edu" in out.stdout
    assert "check-images" in out.stdout


def test_cli_reports_bad_folder_clearly(tmp_path):
    out = subprocess.run([sys.executable, "-m", "selfsr_edu", "check-images", str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 2
    assert "contains no images" in out.stderr and str(tmp_path) in out.stderr


def test_quick_flag_and_helpers(monkeypatch):
    import importlib

    import torch

    import selfsr_edu

    monkeypatch.setenv("SELFSR_QUICK", "0")
    assert importlib.reload(selfsr_edu).QUICK is False
    monkeypatch.setenv("SELFSR_QUICK", "1")
    assert importlib.reload(selfsr_edu).QUICK is True
    monkeypatch.delenv("SELFSR_QUICK")                     # unset: quick exactly when there is no GPU
    assert importlib.reload(selfsr_edu).QUICK is (not torch.cuda.is_available())
    monkeypatch.setenv("SELFSR_QUICK", "1")
    importlib.reload(selfsr_edu)
    assert selfsr_edu.default_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    selfsr_edu.seed_everything(3)
    a = torch.rand(2)
    selfsr_edu.seed_everything(3)
    assert torch.equal(a, torch.rand(2))


def test_ci_calls_make_test():
    text = (ROOT / ".ci" / "run").read_text()
    assert "make test" in text
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme


@pytest.mark.parametrize("name", ["selfsr_edu.resize.imresize", "selfsr_edu.resize.bicubic_pil",
                                  "selfsr_edu.metrics.psnr", "selfsr_edu.metrics.ssim",
                                  "selfsr_edu.losses.identity_loss", "selfsr_edu.losses.flow_smoothness",
                                  "selfsr_edu.losses.hinge_d_loss", "selfsr_edu.losses.hinge_g_loss",
                                  "selfsr_edu.losses.reconstruction_loss", "selfsr_edu.losses.r1_penalty",
                                  "selfsr_edu.losses.cycle_reconstruction_loss"])
def test_public_names_import(name):
    import importlib

    module, attr = name.rsplit(".", 1)
    assert callable(getattr(importlib.import_module(module), attr))
