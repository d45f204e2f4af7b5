"""CelebA the DIC way, read from the user's own copy through ``torchvision.datasets.CelebA``.

Layout torchvision expects (``ROOT`` is what you pass as ``--root``)::

    ROOT/celeba/img_align_celeba/000001.jpg ...      (the 202,599 aligned 178×218 JPEGs)
    ROOT/celeba/list_eval_partition.txt              (train / valid / test split)
    ROOT/celeba/identity_CelebA.txt, list_attr_celeba.txt, list_bbox_celeba.txt,
    ROOT/celeba/list_landmarks_align_celeba.txt      (torchvision checks all five by md5)

Nothing is downloaded unless asked (``download=True``, ``--download``) and a network is there.

**Crop (assumed).** DIC crops CelebA around landmarks found by its own detector and resizes to
128×128; the exact boxes are not published. The aligned CelebA images already have the eyes at
row ≈ 111 and the mouth at row ≈ 152 (the means of ``list_landmarks_align_celeba.txt``), so we
cut one fixed 128×128 box, rows 57–184 and columns 25–152: the eyes land at 42 % and the mouth
at 74 % of the height, the framing of SynthFaces, with native pixels (no resampling at 128).
Other HR sizes are PIL-bicubic resizes of that box.

**Split (assumed).** Training faces come from CelebA's official ``train`` partition (162,770
images) in file order, test faces from the first images of its ``test`` partition (DIC tests on
1,000 CelebA faces; which ones it does not say).
"""
from __future__ import annotations

from pathlib import Path

import torch

from selfsr_edu.data.io import load_image, to_uint8
from selfsr_edu.resize import bicubic_pil

ALIGNED_SIZE = (218, 178)          # H, W of an aligned CelebA image
CROP = (57, 25, 128)               # top, left, side of the face box (see the module docstring)
FILES = ("list_eval_partition.txt", "identity_CelebA.txt", "list_attr_celeba.txt", "list_bbox_celeba.txt",
         "list_landmarks_align_celeba.txt")


def celeba_files(root: str | Path, split: str, download: bool = False) -> list[Path]:
    """The image paths of a CelebA ``split`` (``"train"``, ``"valid"``, ``"test"``) under ``root``, in file
    order, as ``torchvision.datasets.CelebA`` lists them; a clear error when the data is not there."""
    from torchvision.datasets import CelebA

    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"--root {root} is not a folder: put CelebA in {root / 'celeba'} "
                                f"(img_align_celeba/ and {', '.join(FILES)})")
    try:
        ds = CelebA(str(root), split=split, target_type=[], download=download)
    except RuntimeError as exc:
        missing = [f for f in ("img_align_celeba",) + FILES if not (root / "celeba" / f).exists()]
        what = f"missing: {', '.join(missing)}" if missing else "a list file does not match torchvision's md5"
        raise FileNotFoundError(
            f"CelebA not found or damaged under {root / 'celeba'} ({what}). Download it yourself (aligned & "
            f"cropped images and the five list files) and lay it out as {root}/celeba/img_align_celeba/*.jpg "
            f"plus {root}/celeba/<list files>; or pass --download where a network is available") from exc
    return [root / "celeba" / "img_align_celeba" / name for name in ds.filename]


def crop_face(image: torch.Tensor, path: str | Path = "image") -> torch.Tensor:
    """The fixed 128×128 face box (:data:`CROP`) of one aligned 3×218×178 CelebA image."""
    if tuple(image.shape[-2:]) != ALIGNED_SIZE:
        raise ValueError(f"{path} is {image.shape[-1]}×{image.shape[-2]}, expected an aligned CelebA image "
                         f"({ALIGNED_SIZE[1]}×{ALIGNED_SIZE[0]}, from img_align_celeba)")
    top, left, side = CROP
    return image[..., top:top + side, left:left + side]


def celeba_faces(root: str | Path, split: str, size: int = 128, n: int | None = None, download: bool = False,
                 progress: bool = False) -> torch.Tensor:
    """The first ``n`` faces of a CelebA ``split``, cropped (:func:`crop_face`) and, for ``size`` ≠ 128,
    PIL-bicubic resized: an N×3×size×size uint8 tensor (what ``train-sr --data celeba`` trains on)."""
    from tqdm.auto import tqdm

    files = celeba_files(root, split, download)
    if n is not None:
        if len(files) < n:
            raise ValueError(f"CelebA {split} split under {root} has {len(files)} images, {n} were asked for")
        files = files[:n]
    faces = []
    for path in tqdm(files, desc=f"CelebA {split}", disable=not progress, leave=False):
        face = crop_face(load_image(path), path)
        if face.shape[-1] != size:
            face = bicubic_pil(face[None], size)[0].clamp(0, 1)
        faces.append(to_uint8(face))
    return torch.stack(faces)


__all__ = ["celeba_files", "celeba_faces", "crop_face", "CROP", "FILES"]
