"""Data verbs: ``check-images`` (validate an image folder) and ``synthfaces`` (a grid of SynthFaces)."""
from __future__ import annotations


def add_parsers(sub, parents=()) -> None:
    """Register ``check-images`` and ``synthfaces`` on the top-level subparsers."""
    p = sub.add_parser("check-images", parents=list(parents), help="validate every image under a folder and report bad files")
    p.add_argument("root", help="folder of face images (searched recursively)")
    p.add_argument("--size", type=int, default=128, help="side the images are resized to (default 128)")
    p.set_defaults(func=_check_images)
    p = sub.add_parser("synthfaces", parents=list(parents), help="save a PNG grid of SynthFaces (e.g. docs/synthfaces_64.png)")
    p.add_argument("out", help="output PNG path")
    p.add_argument("--n", type=int, default=64, help="number of faces (default 64)")
    p.add_argument("--size", type=int, default=128, help="face side in pixels (default 128)")
    p.add_argument("--seed", type=int, default=0, help="world seed (default 0)")
    p.add_argument("--cols", type=int, default=8, help="faces per row (default 8)")
    p.add_argument("--palette", action="store_true",
                   help="store as a dithered 256-colour PNG (about 4x smaller, for docs/)")
    p.set_defaults(func=_save_grid)


def _check_images(args) -> int:
    from selfsr_edu.data.datasets import FaceFolder

    ds = FaceFolder(args.root, size=args.size)
    ds.validate()
    print(f"{len(ds)} images under {args.root} are readable RGB faces")
    return 0


def _save_grid(args) -> int:
    from PIL import Image

    from selfsr_edu.data.synthfaces import RENDERER_VERSION, face_grid

    im = Image.fromarray(face_grid(args.n, args.size, args.seed, args.cols))
    if args.palette:
        im = im.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG)
    im.save(args.out, optimize=True)
    print(f"saved {args.n} SynthFaces (seed {args.seed}, {args.size}x{args.size}, renderer v{RENDERER_VERSION}) to {args.out}")
    return 0
