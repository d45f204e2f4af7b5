"""Reading and writing images as 3×H×W float tensors in [0, 1] (RGB).

Conversions on load, so every image that reaches a model is 3-channel RGB:

* grayscale (``L``, ``1``, ``I``, ``I;16``, ``F``) is copied into R, G and B;
* 16-bit images are divided by 65535 (8-bit by 255, float ``F`` images by 1);
* images with transparency (``RGBA``, ``LA``, ``P`` with a transparent
  colour) are composited **on white**, the background scanned faces usually
  have;
* palette and CMYK images are converted by Pillow.

Errors name the file: a missing path, a folder, a file Pillow cannot
identify (not an image) or a truncated/corrupt image each raise an error
saying which it was.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


class ImageReadError(ValueError):
    """A file exists but is not a readable image."""


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    """A Pillow image as a 3×H×W float tensor in [0, 1] (rules in the module docstring)."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        arr = np.asarray(img, dtype=np.float64) / 65535.0
    elif mode == "I":
        arr = np.asarray(img, dtype=np.float64)
        arr = arr / (65535.0 if arr.max(initial=0) > 255 else 255.0)
    elif mode == "F":
        arr = np.asarray(img, dtype=np.float64)
    elif mode in ("L", "1"):
        arr = np.asarray(img.convert("L"), dtype=np.float64) / 255.0
    else:
        has_alpha = mode in ("RGBA", "LA", "RGBa", "La", "PA") or (mode == "P" and "transparency" in img.info)
        if has_alpha:
            rgba = np.asarray(img.convert("RGBA"), dtype=np.float64) / 255.0
            alpha = rgba[..., 3:4]
            arr = rgba[..., :3] * alpha + (1.0 - alpha)  # composite on white
        else:
            arr = np.asarray(img.convert("RGB"), dtype=np.float64) / 255.0
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    return torch.from_numpy(np.clip(arr, 0.0, 1.0).astype(np.float32)).permute(2, 0, 1).contiguous()


def load_image(path: str | os.PathLike) -> torch.Tensor:
    """Read an image file as a 3×H×W float tensor in [0, 1], RGB, upright (EXIF orientation applied).

    16-bit RGB(A) PNGs, which Pillow can only read at 8 bits per channel, are read exactly with
    OpenCV when it is installed (the ``faces`` extra); without it a warning says so.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"image {path} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder, expected an image file")
    if _is_png_rgb16(path):
        exact = _read_png_rgb16(path)
        if exact is not None:
            return exact
    try:
        with Image.open(path) as img:
            img.load()
            return pil_to_tensor(ImageOps.exif_transpose(img))
    except Image.DecompressionBombError as exc:
        raise ImageReadError(f"{path} is too large to be a face image ({exc}); downscale or crop it first") from None
    except UnidentifiedImageError as exc:
        raise ImageReadError(f"{path} is not an image Pillow can read (wrong format or not an image)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"{path} is corrupt or truncated: {exc}") from exc


def _is_png_rgb16(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(26)
    return head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) == 26 and head[24] == 16 and head[25] in (2, 6)


def _read_png_rgb16(path: Path) -> torch.Tensor | None:
    """A 16-bit RGB(A) PNG read exactly with OpenCV (alpha composited on white), or ``None`` without it."""
    try:
        import cv2
    except ImportError:
        warnings.warn(f"{path} has 16 bits per channel; Pillow reads it at 8 bits. Install the faces extra "
                      "(OpenCV) to read it exactly", stacklevel=3)
        return None
    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise ImageReadError(f"{path} is corrupt or truncated (OpenCV could not decode it)")
    arr = arr.astype(np.float64) / 65535.0
    rgb = arr[..., 2::-1] if arr.shape[-1] == 3 else arr[..., [2, 1, 0]] * arr[..., 3:4] + (1.0 - arr[..., 3:4])
    return torch.from_numpy(np.ascontiguousarray(np.clip(rgb, 0, 1), dtype=np.float32)).permute(2, 0, 1).contiguous()


def sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file (read in blocks)."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def to_uint8(x):
    """The 8-bit levels ``round(255 · clip(x, 0, 1))`` as uint8, same shape (as a PNG
    stores them): a tensor gives a tensor, a numpy array a numpy array."""
    if isinstance(x, np.ndarray):
        return to_uint8(torch.from_numpy(np.ascontiguousarray(x))).numpy()
    return (x.detach().clamp(0, 1) * 255).round().to(torch.uint8)


def quantise8(x: torch.Tensor) -> torch.Tensor:
    """Round to the 8-bit grid, ``round(255 x) / 255`` (as if saved to PNG); keeps the dtype."""
    return to_uint8(x).to(x.dtype) / 255


def tensor_to_uint8(image: torch.Tensor) -> np.ndarray:
    """3×H×W (or 1×3×H×W) [0, 1] tensor → H×W×3 uint8 array (:func:`to_uint8`)."""
    if image.dim() == 4 and image.shape[0] == 1:
        image = image[0]
    if image.dim() != 3 or image.shape[0] not in (1, 3):
        raise ValueError(f"expected a 3×H×W (or 1×H×W) image tensor, got shape {tuple(image.shape)}")
    if image.shape[0] == 1:
        image = image.expand(3, -1, -1)
    return to_uint8(image.float()).permute(1, 2, 0).cpu().numpy()


def save_image(image: torch.Tensor, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write a 3×H×W [0, 1] tensor as an 8-bit PNG. Refuses to replace an
    existing file unless ``overwrite=True``; parent folders are created."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"save_image writes PNG only (lossless); got {path}")
    if not torch.is_tensor(image) or not image.is_floating_point():
        raise ValueError(f"{path} not written: save_image takes a float tensor in [0, 1], got "
                         f"{image.dtype if torch.is_tensor(image) else type(image).__name__} (divide uint8 by 255)")
    if not torch.isfinite(image).all():
        raise ValueError(f"{path} not written: the image holds NaN/inf values (a diverged model or damaged weights?)")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.png")
    Image.fromarray(tensor_to_uint8(image)).save(tmp, format="PNG")
    os.replace(tmp, path)
    return path




def image_grid(images: torch.Tensor | Sequence[torch.Tensor], nrow: int = 8, pad: int = 2,
               size: int | None = None) -> torch.Tensor:
    """Tile images into one 3×H×W tensor. Images of different sizes (for
    example LR beside HR) are resized with nearest neighbour to ``size`` (or
    the largest side present) so pixels stay visible as blocks."""
    from torchvision.utils import make_grid

    if torch.is_tensor(images) and images.dim() == 3:
        images = images[None]
    items = list(images)
    side = size or max(max(t.shape[-2:]) for t in items)
    items = [t if t.shape[-1] == side and t.shape[-2] == side else
             F.interpolate(t[None].float(), size=(side, side), mode="nearest")[0] for t in items]
    return make_grid(torch.stack(items).clamp(0, 1).cpu(), nrow=nrow, padding=pad, pad_value=1.0)


def save_grid(images, path: str | os.PathLike, nrow: int = 8, overwrite: bool = True, size: int | None = None) -> Path:
    """Write :func:`image_grid` as a PNG (trainers' sample grids)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(image_grid(images, nrow=nrow, size=size), path, overwrite=overwrite)
    return path


__all__ = ["load_image", "save_image", "quantise8", "to_uint8", "pil_to_tensor", "tensor_to_uint8", "ImageReadError", "IMAGE_EXTENSIONS", "image_grid", "save_grid"]
