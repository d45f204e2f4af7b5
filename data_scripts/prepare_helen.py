"""Prepare Helen the DIC way: face crops from the 194-point annotations, HR/LR PNG pairs, train/test.

    python data_scripts/prepare_helen.py --images ~/helen/images --annotations ~/helen/annotation \
        --out ~/data/helen_dic [--test-list ~/helen/testnames.txt]

Helen's annotation files (``annotation/*.txt``) hold the image name on their first line and then 194
lines ``x , y`` (landmarks on the face outline, eyes, brows, nose, lips). Each face is cropped as a
square around its landmarks, centred on their bounding box with a side of ``--margin`` (default 1.3,
assumed: DIC crops around landmarks too, its exact margin is not published) times the box's longer
side, padded by replicating the border where the square leaves the photo, then PIL-bicubic resized
to ``--size`` (HR) and ``size // scale`` (LR, the DIC protocol). Split: the names in ``--test-list``
(Helen's ``testnames.txt``) are the test set; without it the last 50 names in sorted order are
(assumed: DIC tests on 50 Helen faces). Writes ``OUT/{train,test}/{HR,LR}/<name>.png``; never
overwrites; every annotation is read and checked before anything is written.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from selfsr_edu.data import load_image, save_image
from selfsr_edu.resize import bicubic_pil

N_POINTS = 194


def read_annotation(path: Path) -> tuple[str, np.ndarray]:
    """``(image name, 194×2 landmarks)`` of one Helen annotation file; ValueError naming it otherwise."""
    lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
    try:
        pts = np.array([[float(v) for v in ln.split(",")] for ln in lines[1:]], dtype=np.float64)
    except ValueError:
        pts = np.zeros((0, 2))
    if not lines or pts.shape != (N_POINTS, 2):
        raise ValueError(f"{path} is not a Helen annotation: expected the image name and then {N_POINTS} "
                         f"lines 'x , y', got {max(len(lines) - 1, 0)} point lines")
    return lines[0], pts


def face_square(points: np.ndarray, margin: float) -> tuple[int, int, int]:
    """``(left, top, side)`` of the square crop around ``points`` (module docstring)."""
    (x0, y0), (x1, y1) = points.min(0), points.max(0)
    side = int(round(margin * max(x1 - x0, y1 - y0)))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return int(round(cx - side / 2)), int(round(cy - side / 2)), side


def crop_square(image: torch.Tensor, left: int, top: int, side: int) -> torch.Tensor:
    """The square ``side``² crop at (left, top) of a 3×H×W image, border-replicated outside it."""
    h, w = image.shape[-2:]
    pad = (max(0, -left), max(0, left + side - w), max(0, -top), max(0, top + side - h))
    padded = F.pad(image[None], pad, mode="replicate")[0] if any(pad) else image
    return padded[:, top + pad[2]:top + pad[2] + side, left + pad[0]:left + pad[0] + side]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", required=True, help="folder of Helen's photos (<name>.jpg)")
    ap.add_argument("--annotations", required=True, help="folder of Helen's annotation/*.txt files")
    ap.add_argument("--out", required=True, help="output folder; train/ and test/ (each HR/ and LR/) are created")
    ap.add_argument("--test-list", help="Helen's testnames.txt (default: the last 50 names are the test set)")
    ap.add_argument("--size", type=int, default=128, help="HR side (default 128)")
    ap.add_argument("--scale", type=int, default=8, help="downscaling factor (default 8: 128 -> 16)")
    ap.add_argument("--margin", type=float, default=1.3, help="crop side / landmark box side (default 1.3)")
    args = ap.parse_args(argv)
    images, out = Path(args.images), Path(args.out)
    try:
        if args.size % args.scale:
            raise ValueError(f"--size {args.size} is not divisible by --scale {args.scale}")
        notes = sorted(Path(args.annotations).glob("*.txt"))
        if not notes:
            raise FileNotFoundError(f"--annotations {args.annotations} has no .txt annotation files")
        faces = dict(read_annotation(p) for p in notes)
        photos = {name: next(iter(images.glob(f"{name}.*")), None) for name in faces}
        missing = [n for n, p in photos.items() if p is None]
        if missing:
            raise FileNotFoundError(f"{len(missing)} annotated images are not in --images {images} (e.g. {missing[0]})")
        names = sorted(faces)
        test = (set(Path(args.test_list).read_text().split()) & set(names)) if args.test_list else set(names[-50:])
        split = {n: "test" if n in test else "train" for n in names}
        clash = [n for n in names if (out / split[n] / "HR" / f"{n}.png").exists()]
        if clash:
            raise FileExistsError(f"{len(clash)} output files already exist under {out} (e.g. {clash[0]}.png); "
                                  "choose another --out")
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for n in tqdm(names, desc="Helen, DIC protocol", unit="face"):
        hr = crop_square(load_image(photos[n]), *face_square(faces[n], args.margin))
        hr = bicubic_pil(hr[None], args.size)[0].clamp(0, 1)
        save_image(hr, out / split[n] / "HR" / f"{n}.png")
        save_image(bicubic_pil(hr[None], args.size // args.scale)[0].clamp(0, 1), out / split[n] / "LR" / f"{n}.png")
    print(f"wrote {sum(s == 'train' for s in split.values())} training and {len(test)} test HR {args.size}² / LR "
          f"{args.size // args.scale}² pairs to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
