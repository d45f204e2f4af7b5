"""Super-resolving the faces in a photograph with a trained R (the ``upscale`` verb's pipeline).

R only knows aligned low-resolution faces (16×16 in the DIC ×8 setting). For a photo:

1. find the faces and their 5 landmarks (:func:`selfsr_edu.data.faces.find_faces`: dlib's HOG detector,
   and OpenCV's cascade for faces too small for it);
2. align each to R's input grid: warp to the HR grid (``lr_size · 2^stage``), shrink with PIL
   bicubic to ``lr_size`` and round to 8 bits, as the training LR was made
   (:func:`~selfsr_edu.data.faces.align_face`);
3. run R on the aligned faces (one batch per photo);
4. upscale the whole photo with PIL bicubic by R's factor and paste every SR face back through its
   alignment transform with a soft elliptical alpha (:func:`~selfsr_edu.data.faces.paste_back`);
   or, with ``faces_only``, keep the SR faces as separate crops.

Everything is planned (sizes, budget, faces, output names) before anything is written:
:func:`plan` checks one input, :func:`check_targets` all outputs, :func:`run` does the work.

What to expect: R adds detail to a face whose aligned crop (face, hair and some background, about
twice dlib's box) spans about ``lr_size`` pixels of the photo. A larger face is *shrunk* to
``lr_size`` first, so its pasted SR face has less detail than the bicubic photo around it;
:func:`describe` says so for each such face. dlib's HOG detector rarely finds faces that small
(its box would be about 8 px; it needs about 20 px even after two upsamplings), so in practice
photo mode works on faces 1.5-4× larger than R's sweet spot.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from selfsr_edu.data import faces as fc
from selfsr_edu.data.faces import MIN_SCORE

#: Default pixel budget of a photo-mode output (``--max-pixels``): 40 megapixels, about 0.5 GB as
#: a float tensor. Assumed.
MAX_PIXELS = 40_000_000

#: HOG's score threshold on R's output that confirms a small-face candidate (see confirm_small_faces).
SMALL_FACE_CONFIRM = -0.5

#: In ``--no-detect`` mode inputs are taken as aligned LR faces; larger than this many times
#: ``lr_size`` a side they are refused as surely not one.
NO_DETECT_LIMIT = 4


@dataclass
class Job:
    """One input and what will be written for it.

    ``mode``: ``"face"`` (the input is already an aligned LR face: R runs on all of it),
    ``"photo"`` (faces found, SR faces pasted into the bicubic-upscaled photo) or ``"faces"``
    (faces found, each SR face written on its own). ``targets``: the output files, in order
    (one, or one per face). ``out_size``: (width, height) of each output.
    """
    source: Path
    image: torch.Tensor
    mode: str
    scale: int
    targets: list[Path]
    out_size: tuple[int, int]
    faces: list = field(default_factory=list)
    upsample: int = 0


def plan(source, image: torch.Tensor, *, lr_size: int, stage: int, out_dir, detect: bool = True,
         faces_only: bool = False, max_pixels: int = MAX_PIXELS, upsample: int | None = None,
         min_score: float | None = None, R=None) -> Job:
    """Decide what to do with one input ``image`` (3×H×W, read from ``source``) and check it can be
    done: its size (``--no-detect``: at most ``NO_DETECT_LIMIT · lr_size`` a side), the output's
    pixel budget (photo mode), and that it has a face (photo modes). Raises ValueError naming the
    file, or ImportError naming the ``faces`` extra. Nothing is written."""
    source, out_dir = Path(source), Path(out_dir)
    h, w = image.shape[-2:]
    scale = 1 << stage
    if not detect or max(h, w) <= lr_size:
        if max(h, w) > NO_DETECT_LIMIT * lr_size:
            raise ValueError(f"{source} is {w}×{h}: with --no-detect the inputs must be aligned low-resolution "
                             f"face crops ({lr_size}×{lr_size} in training, at most {NO_DETECT_LIMIT * lr_size} px "
                             f"a side here), not photos. Crop and align the face first, or drop --no-detect to "
                             f"find the faces in the photo")
        return Job(source, image, "face", scale, [out_dir / f"{source.stem}_x{scale}.png"], (w * scale, h * scale))
    if not faces_only and w * scale * h * scale > max_pixels:
        raise ValueError(f"{source} is {w}×{h}: the ×{scale} photo would be {w * scale}×{h * scale} = "
                         f"{w * h * scale * scale / 1e6:.1f} megapixels, over --max-pixels {max_pixels:,}. Raise "
                         f"--max-pixels, or use --faces-only to write just the super-resolved faces")
    min_score = MIN_SCORE if min_score is None else min_score
    try:
        upsample = fc.auto_upsample(h, w) if upsample is None else upsample
        found = fc.find_faces(image, upsample=upsample, min_score=min_score)
        found = [f for f, keep in zip(found, confirm_small_faces(R, image, found, lr_size, stage)) if keep]
    except ImportError as exc:
        raise ImportError(f"{source} is {w}×{h}, larger than R's {lr_size}×{lr_size} input, so its faces must be "
                          f"found first: {exc}. Or crop and align the face yourself and pass --no-detect") from exc
    if not found:
        raise ValueError(f"{source} is {w}×{h} and no face was found in it (neither dlib's HOG detector nor OpenCV's small-face cascade) (upsampled "
                         f"{upsample}×, min score {min_score}). Crop and "
                         f"align the face first (data_scripts/align_faces.py), or pass --no-detect if it already "
                         f"is an aligned face crop")
    hr = lr_size * scale
    if faces_only:
        targets = [out_dir / f"{source.stem}_face{k}_x{scale}.png" for k in range(1, len(found) + 1)]
        return Job(source, image, "faces", scale, targets, (hr, hr), found, upsample)
    return Job(source, image, "photo", scale, [out_dir / f"{source.stem}_x{scale}.png"], (w * scale, h * scale),
               found, upsample)


def check_targets(jobs: list[Job]) -> None:
    """Refuse existing outputs (never overwritten) and two inputs writing the same name."""
    targets = [t for job in jobs for t in job.targets]
    existing = [str(t) for t in targets if t.exists()]
    if existing:
        raise FileExistsError(f"refusing to overwrite existing outputs: {', '.join(existing)}")
    if len(set(targets)) != len(targets):
        raise ValueError("two inputs would write the same output name; rename one")


def describe(job: Job, lr_size: int) -> str:
    """What :func:`run` will write for ``job``, and how each face will be treated (for printing first)."""
    h, w = job.image.shape[-2:]
    ow, oh = job.out_size
    if job.mode == "face":
        return f"{job.source} ({w}×{h}, an aligned face) -> {job.targets[0]} ({ow}×{oh})"
    n = len(job.faces)
    head = f"{job.source} ({w}×{h} photo): {n} face{'s' * (n != 1)} found (dlib HOG, upsampled {job.upsample}×)"
    if job.mode == "photo":
        lines = [f"{head} -> {job.targets[0]} will be {ow}×{oh} ({ow * oh / 1e6:.1f} megapixels): bicubic "
                 f"×{job.scale} with R's faces pasted in"]
    else:
        lines = [f"{head} -> {n} face crop{'s' * (n != 1)} of {ow}×{oh}, the photo left alone"]
    for k, (face, target) in enumerate(zip(job.faces, job.targets if job.mode == "faces" else [None] * n), 1):
        side = fc.crop_side_in_photo(fc.alignment_transform(face.landmarks))
        found_by = f"score {face.score:.2f}" if face.score == face.score else "small-face cascade"
        box = tuple(round(float(v), 1) for v in face.box)
        line = (f"  face {k}: box {box}, {found_by}; its aligned crop spans {side:.0f} px of the "
                f"photo -> R's {lr_size}×{lr_size} input" + (f" -> {target}" if target else ""))
        if side > 2 * lr_size:
            line += (f" (note: shrunk {side / lr_size:.0f}× to fit R's input, so its ×{job.scale} face has less "
                     f"detail than the photo had; R adds detail where the crop spans about {lr_size}-{2 * lr_size} px)")
        lines.append(line)
    return "\n".join(lines)


def align_for_sr(image: torch.Tensor, faces: list, lr_size: int, stage: int):
    """The aligned LR inputs of R (N×3×lr×lr, 8-bit levels like the training LR) and their transforms:
    each face warped to the HR grid (``lr_size · 2^stage``) and shrunk with PIL bicubic."""
    from selfsr_edu.data.io import quantise8

    crops, transforms = [], []
    for face in faces:
        crop, T = fc.align_face(image, face.landmarks, lr_size, warp_size=lr_size << stage)
        crops.append(quantise8(crop))
        transforms.append(T)
    return torch.stack(crops), transforms


def confirm_small_faces(R, image: torch.Tensor, faces: list, lr_size: int, stage: int,
                        threshold: float = SMALL_FACE_CONFIRM) -> list[bool]:
    """Which faces to keep: every HOG face; a small-face candidate (``score`` NaN, from OpenCV's cascade,
    which also fires on textures) only if dlib's HOG detector finds a face in *R's output* for it.

    A real 8-px face comes out of R as a 128-px face that HOG can see; a textured patch comes out as a
    texture. Measured on six 16-px SynthFaces in a scene: HOG scores −0.19 to 1.34 on R's faces; on the
    cascade's false faces in two random-noise images and the astronaut photo: nothing above −0.5
    (``threshold``, assumed). Without ``R`` small candidates are dropped."""
    small = [k for k, f in enumerate(faces) if f.score != f.score]
    keep = [f.score == f.score for f in faces]
    if not small or R is None:
        return keep
    dlib_mod, path = fc._dlib()
    detector, _ = fc._models(str(path))
    sr, _, _ = super_resolve_faces(R, image, [faces[k] for k in small], lr_size, stage)
    for k, face in zip(small, sr):
        _, scores, _ = detector.run(fc._as_uint8(face), 1, float(threshold))
        keep[k] = len(scores) > 0
    return keep


def super_resolve_faces(R, image: torch.Tensor, faces: list, lr_size: int, stage: int):
    """``(sr_faces, lr_faces, transforms)`` for the ``faces`` of ``image``: R run on the aligned LR."""
    lr, transforms = align_for_sr(image, faces, lr_size, stage)
    with torch.no_grad():
        sr = R(lr, stage).clamp(0, 1)
    return sr, lr, transforms


def upscale_photo(R, image: torch.Tensor, faces: list, lr_size: int, stage: int) -> torch.Tensor:
    """The photo upscaled by ``2^stage`` with PIL bicubic, every face replaced by R's (soft-pasted)."""
    from selfsr_edu.resize import bicubic_pil

    scale = 1 << stage
    h, w = image.shape[-2:]
    sr, _, transforms = super_resolve_faces(R, image, faces, lr_size, stage)
    out = bicubic_pil(image, (h * scale, w * scale)).clamp(0, 1)
    for face, T in zip(sr, transforms):
        out = fc.paste_back(out, face, T, scale=scale)
    return out


def run(job: Job, R, lr_size: int, stage: int) -> list[tuple[Path, tuple[int, int]]]:
    """Do ``job``: write its outputs; returns each written path with its (width, height)."""
    from selfsr_edu.data.io import save_image

    if job.mode == "face":
        with torch.no_grad():
            outs = [R(job.image[None], stage).clamp(0, 1)[0]]
    elif job.mode == "faces":
        outs = list(super_resolve_faces(R, job.image, job.faces, lr_size, stage)[0])
    else:
        outs = [upscale_photo(R, job.image, job.faces, lr_size, stage)]
    written = []
    for img, target in zip(outs, job.targets):
        save_image(img, target)
        written.append((target, (img.shape[-1], img.shape[-2])))
    return written


__all__ = ["Job", "MAX_PIXELS", "MIN_SCORE", "plan", "check_targets", "describe", "align_for_sr", "super_resolve_faces",
           "upscale_photo", "run"]
