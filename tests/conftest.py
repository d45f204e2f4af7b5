"""Shared test set-up: quick mode, a private cache folder, and small fixtures."""
import os

os.environ.setdefault("SELFSR_QUICK", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Every test writes its SynthFaces cache into one temporary folder, never the user's."""
    monkeypatch.setenv("SELFSR_CACHE", str(tmp_path_factory.getbasetemp() / "selfsr_cache"))


@pytest.fixture
def generator():
    return torch.Generator().manual_seed(1234)
