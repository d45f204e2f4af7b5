"""Is it still the same person? Identity under degradation (Fig. 8), measured two ways.

The paper shows in Fig. 8 that disturbing G's estimated flow gives other plausible degraded
faces "while the identity is preserved", by eye. SynthFaces knows every face's identity (its
parameters), so we can ask it as a retrieval question: among ``N`` faces, is a degraded
version of face ``i`` nearest to face ``i``'s clean version? With features ``φ``:

    top-1(i) = [ argmin_j ‖φ(query_i) − φ(gallery_j)‖₂ = i ],   accuracy = mean_i top-1(i)

and, as margins, the mean distance of each query to its own face and to the nearest *other*
face. Two feature maps ``φ``:

* :func:`pixel_features` (weight-free, always available): the face bicubic-downscaled to 8×8,
  luma Y and chroma (Cb, Cr) stacked: shape, layout and skin colour, which a flow (it only
  moves pixels) should keep and a colour drift would not;
* :func:`dlib_descriptors` (the ``faces`` extra): dlib's 128-d face-recognition descriptor
  (ResNet, ``dlib_face_recognition_resnet_model_v1.dat`` from ``face_recognition_models``, CC0),
  computed on the face bicubic-upscaled to 150×150 with its 5 landmarks from dlib's predictor
  run on the whole image as the face box (LR faces are aligned crops: no detection needed).
  dlib's own rule calls two faces the same person below a distance of 0.6.

A 16×16 LR face is far below what dlib's network was trained on (faces of 150 px), so its
descriptor distances are larger than on photos: compare variants with each other, not with 0.6.
"""
from __future__ import annotations

import importlib
from functools import lru_cache

import numpy as np
import torch

from selfsr_edu.resize import bicubic_pil

DLIB_SAME_PERSON = 0.6


def pixel_features(faces: torch.Tensor, size: int = 8) -> torch.Tensor:
    """N×3×H×W faces in [0, 1] → N×(3·size²) features: Y, Cb, Cr (BT.601, full range) of the face
    PIL-bicubic-downscaled to ``size``×``size``."""
    if not torch.is_tensor(faces) or faces.dim() != 4 or faces.shape[1] != 3:
        raise ValueError(f"faces must be an N×3×H×W tensor, got {getattr(faces, 'shape', type(faces).__name__)}")
    x = bicubic_pil(faces.float(), size) if faces.shape[-1] != size else faces.float()
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb, cr = 0.564 * (b - y), 0.713 * (r - y)
    return torch.stack([y, cb, cr], 1).flatten(1)


def _dlib_models():
    """dlib, its 5-point predictor (shared with face detection) and the face-recognition network."""
    from selfsr_edu.data import faces

    _, predictor_path = faces._dlib()
    dlib, recogniser_path = faces._dlib("dlib_face_recognition_resnet_model_v1.dat")
    return dlib, faces._models(str(predictor_path))[1], _recogniser(str(recogniser_path))


@lru_cache(maxsize=1)
def _recogniser(path: str):
    return importlib.import_module("dlib").face_recognition_model_v1(path)


def dlib_available() -> bool:
    """Whether :func:`dlib_descriptors` can run (the ``faces`` extra is installed)."""
    try:
        _dlib_models()
        return True
    except ImportError:
        return False


def dlib_descriptors(faces: torch.Tensor, size: int = 150) -> torch.Tensor:
    """N×3×H×W aligned faces in [0, 1] → N×128 dlib face descriptors (module docstring)."""
    dlib, predictor, recogniser = _dlib_models()
    if not torch.is_tensor(faces) or faces.dim() != 4 or faces.shape[1] != 3:
        raise ValueError(f"faces must be an N×3×H×W tensor, got {getattr(faces, 'shape', type(faces).__name__)}")
    up = bicubic_pil(faces.float(), size).clamp(0, 1) if faces.shape[-1] != size else faces.float().clamp(0, 1)
    arrays = (up * 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()
    box = dlib.rectangle(0, 0, size - 1, size - 1)
    out = []
    for img in arrays:
        img = np.ascontiguousarray(img)
        shape = predictor(img, box)
        out.append(np.asarray(recogniser.compute_face_descriptor(img, shape), dtype=np.float32))
    return torch.from_numpy(np.stack(out))


def identity_retrieval(query: torch.Tensor, gallery: torch.Tensor) -> dict:
    """Query ``i`` is face ``i``: ``{"top1": accuracy, "own": mean ‖q_i − g_i‖, "other": mean_i min_{j≠i}
    ‖q_i − g_j‖, "kept": per-query booleans}`` for feature matrices N×D (module docstring)."""
    if query.dim() != 2 or query.shape != gallery.shape or query.shape[0] < 2:
        raise ValueError(f"query and gallery must be N×D feature matrices of the same shape with N >= 2, got "
                         f"{tuple(query.shape)} and {tuple(gallery.shape)}")
    d = torch.cdist(query.double(), gallery.double())
    own = d.diagonal()
    other = d.masked_fill(torch.eye(len(d), dtype=torch.bool), float("inf")).min(1).values
    kept = own < other
    return {"top1": kept.double().mean().item(), "own": own.mean().item(), "other": other.mean().item(),
            "kept": kept}


__all__ = ["pixel_features", "dlib_descriptors", "dlib_available", "identity_retrieval", "DLIB_SAME_PERSON"]
