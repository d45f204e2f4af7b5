"""Prepare CelebA the DIC way: HR/LR PNG pairs of the train and test splits.

    python data_scripts/prepare_celeba.py --root ~/data --out ~/data/celeba_dic [--n-test 1000]

Reads ``ROOT/celeba/img_align_celeba`` and its list files through ``torchvision.datasets.CelebA``
(no download here; see ``selfsr_edu/data/celeba.py`` for the layout, the fixed 128×128 face box and the
split, all assumed where DIC does not say). Writes ``OUT/{train,test}/HR/<name>.png`` (the face box,
PIL bicubic to ``--size`` when it is not 128) and ``OUT/{train,test}/LR/<name>.png`` (PIL bicubic to
``size // scale``, 8-bit PNG: the DIC protocol). The result is a folder ``train-sr --data folder
--hr-dir OUT/train/HR`` or ``evaluate --hr-folder OUT/test/HR`` reads. Existing files are never
overwritten; one image of the wrong size stops it, naming the file, before anything is written.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from selfsr_edu.data import load_image, save_image
from selfsr_edu.data.celeba import celeba_files, crop_face
from selfsr_edu.resize import bicubic_pil


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", required=True, help="the folder holding celeba/ (img_align_celeba/ and the list files)")
    ap.add_argument("--out", required=True, help="output folder; train/ and test/ (each HR/ and LR/) are created")
    ap.add_argument("--size", type=int, default=128, help="HR side (default 128)")
    ap.add_argument("--scale", type=int, default=8, help="downscaling factor (default 8: 128 -> 16)")
    ap.add_argument("--n-train", type=int, default=None, help="only the first N training images (default: all)")
    ap.add_argument("--n-test", type=int, default=1000, help="test images: the first N of the test split (1000)")
    args = ap.parse_args(argv)
    if args.size % args.scale:
        print(f"error: --size {args.size} is not divisible by --scale {args.scale}", file=sys.stderr)
        return 2
    out = Path(args.out)
    try:
        splits = {"train": celeba_files(args.root, "train")[:args.n_train],
                  "test": celeba_files(args.root, "test")[:args.n_test]}
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    jobs = [(split, path) for split, files in splits.items() for path in files]
    clash = [f"{split}/{p.stem}.png" for split, p in jobs
             if (out / split / "HR" / f"{p.stem}.png").exists() or (out / split / "LR" / f"{p.stem}.png").exists()]
    if clash:
        print(f"error: {len(clash)} output files already exist under {out} (e.g. {clash[0]}); choose another --out",
              file=sys.stderr)
        return 2
    for split, path in tqdm(jobs, desc="CelebA, DIC protocol", unit="face"):
        try:
            hr = crop_face(load_image(path), path)
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if hr.shape[-1] != args.size:
            hr = bicubic_pil(hr, args.size).clamp(0, 1)
        save_image(hr, out / split / "HR" / f"{path.stem}.png")
        save_image(bicubic_pil(hr, args.size // args.scale).clamp(0, 1), out / split / "LR" / f"{path.stem}.png")
    print(f"wrote {len(splits['train'])} training and {len(splits['test'])} test HR {args.size}² / LR "
          f"{args.size // args.scale}² pairs to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
