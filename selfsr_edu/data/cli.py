"""Data verbs: ``check-images`` (validate an image folder)."""
from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("check-images", help="validate every image under a folder and report bad files")
    p.add_argument("root", help="folder of face images (searched recursively)")
    p.add_argument("--size", type=int, default=128, help="side the images are resized to (default 128)")
    p.set_defaults(func=_check_images)


def _check_images(args) -> int:
    from selfsr_edu.data.datasets import FaceFolder

    ds = FaceFolder(args.root, size=args.size)
    ds.validate()
    print(f"{len(ds)} images under {args.root} are readable RGB faces")
    return 0
