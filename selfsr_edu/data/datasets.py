"""Folders of face images as datasets (your own CelebA / Helen / real-world crops)."""
from __future__ import annotations

import os
from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset

from selfsr_edu.data.io import IMAGE_EXTENSIONS, load_image
from selfsr_edu.resize import bicubic_pil


def center_square(image: torch.Tensor) -> torch.Tensor:
    """Crop the largest centred square of a C×H×W image."""
    h, w = image.shape[-2:]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return image[..., top:top + s, left:left + s]


class FaceFolder(Dataset):
    """Every image under ``root`` (recursively, sorted by relative path), as
    3×size×size tensors in [0, 1].

    Non-square images are centre-cropped to a square, then resized with
    PIL-compatible bicubic (:func:`selfsr_edu.resize.bicubic_pil`) when their
    side differs from ``size`` (``size=None`` keeps them as they are).
    Files are validated on first use (first ``__getitem__`` or an explicit
    :meth:`validate`); all bad files are reported in one error.
    """

    def __init__(self, root: str | os.PathLike, size: int | None = 128, extensions=IMAGE_EXTENSIONS):
        self.root = Path(root)
        if not self.root.exists():
            raise FileNotFoundError(f"image folder {self.root} does not exist")
        if not self.root.is_dir():
            raise NotADirectoryError(f"{self.root} is not a folder")
        if size is not None and size <= 0:
            raise ValueError(f"size must be positive or None, got {size}")
        self.size = size
        exts = tuple(e.lower() for e in extensions)
        self.files = sorted((p for p in self.root.rglob("*") if p.is_file() and p.suffix.lower() in exts),
                            key=lambda p: p.relative_to(self.root).as_posix())
        if not self.files:
            raise ValueError(f"image folder {self.root} contains no images (looked for {', '.join(exts)})")
        self._validated = False

    def validate(self) -> None:
        """Decode every file in full (a truncated JPEG fails here); raise one :class:`ValueError`
        listing all unreadable ones."""
        bad = []
        for path in self.files:
            try:
                with Image.open(path) as img:
                    img.load()
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
                bad.append(f"  {path}: {type(exc).__name__}: {exc}")
        if bad:
            raise ValueError(f"{len(bad)} of {len(self.files)} files under {self.root} are not readable images:\n"
                             + "\n".join(bad))
        self._validated = True

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> torch.Tensor:
        if not self._validated:
            self.validate()
        image = load_image(self.files[index])
        if self.size is None:
            return image
        image = center_square(image)
        if image.shape[-1] != self.size:
            image = bicubic_pil(image, self.size).clamp(0, 1)
        return image


__all__ = ["FaceFolder", "center_square"]
