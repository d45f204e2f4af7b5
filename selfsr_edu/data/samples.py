"""Real public-domain faces that ship inside our dependencies.

* ``astronaut``: ``skimage.data.astronaut()`` (Eileen Collins, NASA, public
  domain), 512×512.
* ``grace_hopper``: matplotlib's sample ``grace_hopper.jpg`` (US Navy, public
  domain), 512×600.

Assumed: no face detector is needed for two fixed photos, so each is cropped
with a fixed square box ``(left, top, right, bottom)`` in its own pixels,
chosen by eye so the face is centred with the eyes a little above the middle
(like CelebA crops of the DIC protocol), and then resized to 128×128 with
PIL-compatible bicubic (:func:`selfsr_edu.resize.bicubic_pil`, which
antialiases when shrinking), quantised to 8 bits.
"""
from __future__ import annotations

import numpy as np
import torch

from selfsr_edu.data.io import quantise8

#: Fixed square crop boxes (left, top, right, bottom) in the source images.
CROP_BOXES = {
    "astronaut": (132, 28, 312, 208),
    "grace_hopper": (132, 100, 392, 360),
}
NAMES = tuple(CROP_BOXES)


def _load(name: str) -> np.ndarray:
    if name == "astronaut":
        try:
            import skimage.data
        except ImportError as e:  # pragma: no cover - depends on the install
            raise ImportError("sample_faces needs scikit-image for the astronaut photo: pip install scikit-image") from e
        return np.asarray(skimage.data.astronaut())
    if name == "grace_hopper":
        import matplotlib.cbook as cbook
        from PIL import Image

        with cbook.get_sample_data("grace_hopper.jpg") as f:
            return np.asarray(Image.open(f).convert("RGB"))
    raise ValueError(f"name must be one of {NAMES}, got {name!r}")


def sample_faces(size: int = 128, names=NAMES) -> torch.Tensor:
    """The bundled real faces as an ``N×3×size×size`` float tensor in [0, 1]."""
    from selfsr_edu.resize import bicubic_pil

    out = []
    for name in names:
        img = _load(name)
        l, t, r, b = CROP_BOXES[name]
        crop = torch.from_numpy(np.ascontiguousarray(img[t:b, l:r, :3])).permute(2, 0, 1).float() / 255.0
        out.append(bicubic_pil(crop[None], int(size))[0])
    return quantise8(torch.stack(out))


__all__ = ["sample_faces", "CROP_BOXES", "NAMES"]
