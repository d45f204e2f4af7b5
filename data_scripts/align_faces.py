"""Align every face in a folder of photos into square face crops (the SynthFaces / R framing).

    python data_scripts/align_faces.py --src ~/photos --out ~/data/my_faces_128
    python data_scripts/align_faces.py --src ~/photos --out ~/data/my_faces_64 --size 64

For each image under ``--src`` (recursively) every face dlib finds is aligned with a similarity
transform to the 5-point template of ``selfsr_edu.data.faces`` and written as
``OUT/<name>_<k>.png`` (k = 1, 2, ... left to right; files in subfolders are named
``sub__name_k.png``), ``--size`` pixels a side (default 128), antialiased. The crops can be fed to
``data_scripts/prepare_dic.py`` or ``train-degradation --data folders``. Files that are not
images are skipped with a warning; images with no face are listed at the end. Nothing is written
when any output already exists (never overwritten). Needs the faces extra:
``pip install 'selfsr_edu[faces]'``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", required=True, help="folder of photos (searched recursively)")
    ap.add_argument("--out", required=True, help="output folder for NAME_k.png face crops")
    ap.add_argument("--size", type=int, default=128, help="crop side in pixels (default 128)")
    ap.add_argument("--upsample", type=int, choices=[0, 1, 2, 3], default=None,
                    help="2× upsamplings before detection (default: automatic, see selfsr_edu.data.faces)")
    ap.add_argument("--min-score", type=float, default=None, help="detection score threshold")
    args = ap.parse_args(argv)
    try:
        return _align_folder(args)
    except (ImportError, FileNotFoundError, NotADirectoryError, ValueError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _align_folder(args) -> int:
    src, out = Path(args.src), Path(args.out)
    if not src.exists():
        raise FileNotFoundError(f"--src {src} does not exist")
    if not src.is_dir():
        raise NotADirectoryError(f"--src {src} is not a folder")
    if args.size < 8:
        raise ValueError(f"--size must be at least 8 pixels, got {args.size}")

    from tqdm import tqdm

    from selfsr_edu.data import faces as fc
    from selfsr_edu.data.io import IMAGE_EXTENSIONS, ImageReadError, load_image, save_image

    fc.check_available()                              # the faces extra, before any work
    min_score = fc.MIN_SCORE if args.min_score is None else args.min_score
    files = sorted(p for p in src.rglob("*") if p.is_file() and not p.name.startswith("."))
    plan, no_face = [], []
    for path in tqdm(files, desc="finding faces", unit="image", disable=len(files) < 20):
        if path.suffix.lower() not in IMAGE_EXTENSIONS:
            print(f"warning: skipping {path}: not an image file ({path.suffix or 'no extension'})", file=sys.stderr)
            continue
        try:
            image = load_image(path)
        except ImageReadError as exc:
            print(f"warning: skipping {path}: {exc}", file=sys.stderr)
            continue
        found = fc.detect_faces(image, upsample=args.upsample, min_score=min_score)
        if not found:
            no_face.append(path)
        stem = path.relative_to(src).with_suffix("").as_posix().replace("/", "__")
        for k, face in enumerate(found, 1):
            plan.append((path, face, out / f"{stem}_{k}.png"))
    targets = [t for _, _, t in plan]
    if len(set(targets)) != len(targets):
        clash = next(t for t in targets if targets.count(t) > 1)
        raise ValueError(f"two images would both write {clash} (same name, different extensions?); rename one")
    existing = [t for t in targets if t.exists()]
    if existing:
        raise FileExistsError(f"{len(existing)} output files already exist under {out} (e.g. {existing[0]}); "
                              "choose another --out (nothing was written)")
    current, image = None, None
    for path, face, target in tqdm(plan, desc="aligning", unit="face", disable=len(plan) < 20):
        if path != current:
            current, image = path, load_image(path)
        crop, T = fc.align_face(image, face.landmarks, args.size)
        save_image(crop, target)
    n_photos = len({p for p, _, _ in plan})
    print(f"wrote {len(plan)} aligned {args.size}×{args.size} faces from {n_photos} images to {out}")
    if no_face:
        print(f"no face found in {len(no_face)} images: {', '.join(str(p) for p in no_face)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
