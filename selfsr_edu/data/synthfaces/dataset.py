"""The SynthFaces ``Dataset`` (8-bit faces cached on disk) and :func:`face_grid`."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from selfsr_edu.data.io import to_uint8
from selfsr_edu.data.synthfaces.painting import render_face
from selfsr_edu.data.synthfaces.parameters import RENDERER_VERSION, sample_params


def default_cache_dir() -> Path:
    """``$SELFSR_CACHE`` if set, else ``$XDG_CACHE_HOME/selfsr_edu`` (``~/.cache/selfsr_edu``)."""
    env = os.environ.get("SELFSR_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.environ.get("LOCALAPPDATA") or str(Path.home() / ".cache")
    return Path(base) / "selfsr_edu"


class SynthFaces(torch.utils.data.Dataset):
    """``n`` procedural faces, item ``i`` a ``3×size×size`` float tensor in [0, 1].

    Deterministic per ``(seed, index)``; pixels are 8-bit quantised (as a PNG
    would store them). ``offset`` shifts the face indices: item ``i`` is face
    ``offset + i`` of world ``seed`` (the settings use it for disjoint seed
    ranges). Rendered faces are cached under :func:`default_cache_dir` in
    ``synthfaces/v{RENDERER_VERSION}/seed{seed}/size{size}/`` as ``.npy``
    files written atomically (temporary file + ``os.replace``), so concurrent
    processes can share it; ``cache=False`` disables it.
    """

    def __init__(self, n: int, size: int = 128, seed: int = 0, offset: int = 0, cache: bool = True):
        if int(n) < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if int(size) < 8:
            raise ValueError(f"size must be >= 8 pixels, got {size}")
        if int(seed) < 0 or int(offset) < 0:
            raise ValueError(f"seed and offset must be >= 0, got seed={seed}, offset={offset}")
        self.n, self.size, self.seed, self.offset = int(n), int(size), int(seed), int(offset)
        self.cache = bool(cache)

    def __len__(self) -> int:
        return self.n

    def _index(self, i: int) -> int:
        i = int(i)
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(f"index {i} out of range for SynthFaces of length {self.n}")
        return self.offset + i

    def params(self, i: int) -> dict:
        """Parameter dictionary of item ``i`` (see :func:`sample_params`)."""
        return sample_params(self.seed, self._index(i))

    def cache_path(self, i: int) -> Path:
        return (
            default_cache_dir()
            / "synthfaces"
            / f"v{RENDERER_VERSION}"
            / f"seed{self.seed}"
            / f"size{self.size}"
            / f"{self._index(i):09d}.npy"
        )

    def image(self, i: int) -> np.ndarray:
        """Item ``i`` as an ``H×W×3`` uint8 array (cached)."""
        path = self.cache_path(i) if self.cache else None
        if path is not None and path.exists():
            try:
                arr = np.load(path)
                if arr.shape == (self.size, self.size, 3) and arr.dtype == np.uint8:
                    return arr
            except (OSError, ValueError):
                pass  # a damaged file: render again and overwrite
        arr = to_uint8(render_face(self.params(i), self.size))
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
                with os.fdopen(fd, "wb") as f:
                    np.save(f, arr)
                os.replace(tmp, path)
            except OSError:
                pass  # read-only cache: still return the face
        return arr

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.from_numpy(self.image(i)).permute(2, 0, 1).float().div_(255.0)

    def batch(self, indices) -> torch.Tensor:
        """Stack items into an ``N×3×size×size`` tensor."""
        return torch.stack([self[int(i)] for i in indices])


def face_grid(n: int = 64, size: int = 128, seed: int = 0, cols: int = 8, gap: int = 2) -> np.ndarray:
    """The first ``n`` faces of world ``seed`` tiled ``cols`` wide: an ``H×W×3`` uint8 picture."""
    rows = -(-n // cols)
    out = np.full((rows * (size + gap) - gap, cols * (size + gap) - gap, 3), 255, np.uint8)
    ds = SynthFaces(n, size=size, seed=seed)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (size + gap) : r * (size + gap) + size, c * (size + gap) : c * (size + gap) + size] = ds.image(i)
    return out
