"""SynthFaces: procedurally rendered colour faces, the embedded default dataset.

No CelebA, no network: every notebook needs faces it can make itself. This
subpackage is a small piece of computer graphics written with NumPy, in three
modules (``parameters``, ``painting``, ``dataset``):

* **Parameters first.** :func:`sample_params` draws one face's parameter
  dictionary (identity, expression, accessories, lighting, pose, background)
  from a random generator seeded by ``(seed, index)``. Sampling costs
  microseconds, so attribute statistics can be checked on thousands of faces
  without rendering a pixel. Intended rates live in :data:`RATES`,
  :data:`HAIR_STYLES`, :data:`FACIAL_HAIR`, … (a few depend on a
  feminine/masculine *presentation*, so beards rarely meet lipstick).
* **Then pixels.** :func:`render_face` turns a parameter dictionary into an
  ``H×W×3`` float image in [0, 1]. Every part is an anti-aliased mask built
  from a signed distance ``d`` (ellipses, super-ellipses, bands between two
  curves): coverage ``α = clip(½ + d·ppu, 0, 1)`` is the area of a pixel
  inside the shape (``ppu`` pixels per face unit), widened to a smoothstep
  for soft shadows. Parts are painted back to front with the *over* operator
  ``I ← I + α (c − I)``. Skin and hair are shaded by a Lambertian head
  ellipsoid, ``shade = a + (1 − a) max(0, n·l)`` with ``n`` the ellipsoid's
  normal and ``l`` the light direction. Small details are drawn on a 2×
  supersampled canvas that is box-filtered 2×2 down (see :func:`render_face`).
  A camera stage follows: exposure, white balance, vignetting and a mild
  unsharp mask (in-camera sharpening; with the hair, skin and background
  textures it makes bicubic ×8 about as hard as on CelebA).
* **Then a dataset.** :class:`SynthFaces` is a ``torch`` ``Dataset`` of
  ``3×size×size`` tensors, deterministic per ``(seed, index)``, quantised to 8
  bits (as if stored as PNG, like CelebA crops), and cached on disk.
* **And the parts.** ``render_face(params, size, masks=True)`` (or
  :func:`part_masks`) also says which part (eyes, mouth, hair, glasses, ...)
  each pixel was painted by, so what a network learned can be measured
  against the face's anatomy (``selfsr_edu.inspect``).

Coordinates. The renderer works in *face units*: ``u`` to the right and ``v``
down, the image spanning ``[-1, 1]`` on both axes before the pose is applied.
The pose (rotation, shift, scale) maps face units to image units,
``X = s R(θ) (u, v) + t``; each pixel is drawn at the inverse image
``(u, v) = R(−θ) (X − t) / s``.

Resolution. ``size >= 128`` is rendered directly (details at ``2 * size``).
Assumed: smaller sizes (the 64×64 HR faces of the real-world setting) are
rendered at 128 and shrunk with PIL bicubic (antialiased), so a 64×64 face is
*the same identity* as its 128×128 twin, just at lower resolution, exactly as
a 64×64 crop of a photo would be made.

Detail that vanishes at 16×16 (pupils, catch-lights, lashes, teeth gaps,
glasses frames, freckles, hair strands) is present at 128×128: it is what ×8
super-resolution must recover (the paper's Fig. 5 discussion).

Assumed (the paper has no synthetic data): every range and rate below; they
were chosen by eye for plausible faces and tuned so that the DIC-protocol
bicubic ×8 baseline on SynthFaces is close to CelebA's 23.58 dB / 0.6285
(``benchmarks/bench_synthfaces.py --bicubic 1000``).
"""
from selfsr_edu.data.synthfaces.dataset import SynthFaces, default_cache_dir, face_grid
from selfsr_edu.data.synthfaces.painting import MASK_OPACITY, PART_NAMES, part_masks, render_face
from selfsr_edu.data.synthfaces.parameters import (
    BACKGROUNDS, FACIAL_HAIR, FACIAL_HAIR_BY, GLASSES_SHAPES, HAIR_COLOURS, HAIR_STYLES, HAIR_STYLES_BY,
    IRIS_COLOURS, PRESENTATION, RATES, RATES_BY, RENDERER_VERSION, face_rng, sample_params, skin_colour)

__all__ = ["SynthFaces", "sample_params", "render_face", "part_masks", "PART_NAMES", "MASK_OPACITY", "face_grid", "skin_colour", "default_cache_dir",
           "face_rng", "RENDERER_VERSION", "RATES", "RATES_BY", "PRESENTATION", "HAIR_STYLES", "HAIR_STYLES_BY",
           "HAIR_COLOURS", "FACIAL_HAIR", "FACIAL_HAIR_BY", "BACKGROUNDS", "GLASSES_SHAPES", "IRIS_COLOURS"]
