"""Prepare a folder of aligned face crops under the DIC protocol.

    python data_scripts/prepare_dic.py --src ~/data/celeba_aligned_crops --out ~/data/celeba_dic

For every image under ``--src`` (recursively) it writes ``OUT/HR/<name>.png``
(centre square, PIL-compatible bicubic to ``--size``, default 128) and
``OUT/LR/<name>.png`` (PIL bicubic to ``size // scale``, default 16), both 8-bit PNG.
Face detection/alignment is not done here: the input must already be cropped
around the face (as the CelebA/Helen crops of DIC are). Existing files are never
overwritten; unreadable inputs are all listed before anything is written.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from selfsr_edu.data import FaceFolder, save_image
from selfsr_edu.resize import bicubic_pil


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", required=True, help="folder of aligned face crops (any size, RGB/gray/RGBA)")
    ap.add_argument("--out", required=True, help="output folder; HR/ and LR/ are created inside")
    ap.add_argument("--size", type=int, default=128, help="HR side (default 128)")
    ap.add_argument("--scale", type=int, default=8, help="downscaling factor (default 8: 128 -> 16)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N images (sorted)")
    args = ap.parse_args(argv)
    if args.size % args.scale:
        print(f"error: --size {args.size} is not divisible by --scale {args.scale}", file=sys.stderr)
        return 2
    try:
        faces = FaceFolder(args.src, size=args.size)
        faces.validate()
    except (FileNotFoundError, NotADirectoryError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    n = len(faces) if args.limit is None else min(args.limit, len(faces))
    names = [faces.files[i].relative_to(faces.root).with_suffix(".png").as_posix().replace("/", "__")
             for i in range(n)]
    clash = [name for name in names if (out / "HR" / name).exists() or (out / "LR" / name).exists()]
    if clash:
        print(f"error: {len(clash)} output files already exist under {out} (e.g. {clash[0]}); "
              "choose another --out", file=sys.stderr)
        return 2
    for i in tqdm(range(n), desc="DIC protocol", unit="face"):
        hr = faces[i]
        lr = bicubic_pil(hr, args.size // args.scale).clamp(0, 1)
        save_image(hr, out / "HR" / names[i])
        save_image(lr, out / "LR" / names[i])
    print(f"wrote {n} HR {args.size}² / LR {args.size // args.scale}² pairs to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
