"""Faces in photos: the similarity transform (Umeyama), align -> paste-back round trip, dlib detection on
the bundled astronaut, the upscale verb's photo mode, the missing-extra message, data_scripts/align_faces.py."""
import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from selfsr_edu.cli import main
from selfsr_edu.data import faces as fc
from selfsr_edu.data.io import load_image, save_image
from selfsr_edu.resize import bicubic_pil
from test_cli import one_error_line

ROOT = Path(__file__).resolve().parents[1]
HAS_FACES = importlib.util.find_spec("dlib") is not None and importlib.util.find_spec("face_recognition_models")
needs_faces = pytest.mark.skipif(not HAS_FACES, reason="needs the faces extra (dlib-bin, face-recognition-models)")


def pose(theta, s, tx, ty):
    """By hand: the 3×3 matrix of x ↦ s R(θ) x + t."""
    c, n = math.cos(theta), math.sin(theta)
    return np.array([[s * c, -s * n, tx], [s * n, s * c, ty], [0.0, 0.0, 1.0]])


def by_hand(M, pts):
    return np.array([[M[0, 0] * x + M[0, 1] * y + M[0, 2], M[1, 0] * x + M[1, 1] * y + M[1, 2]] for x, y in pts])


# ---------------------------------------------------------------------------------- the transform

@pytest.mark.parametrize("theta,s,tx,ty", [(0.3, 1.7, 12.5, -4.0), (-2.5, 0.05, 300.0, 41.0), (0.0, 1.0, 0.0, 0.0)])
def test_similarity_transform_recovers_a_known_pose(theta, s, tx, ty):
    src = fc.TEMPLATE * 90 + [10.0, 20.0]
    M = pose(theta, s, tx, ty)
    got = fc.similarity_transform(src, by_hand(M, src))
    assert np.allclose(got, M, atol=1e-9)
    assert math.isclose(fc.transform_scale(got), s, rel_tol=1e-9)
    assert np.allclose(fc.apply_transform(got, src), by_hand(M, src))


def test_similarity_transform_is_least_squares_and_never_reflects():
    rng = np.random.default_rng(0)
    src = rng.normal(size=(5, 2)) * 30
    M = pose(0.7, 2.0, 5.0, 6.0)
    dst = by_hand(M, src) + rng.normal(size=(5, 2)) * 0.5
    best = fc.similarity_transform(src, dst)
    err = lambda T: ((fc.apply_transform(T, src) - dst) ** 2).sum()     # noqa: E731
    for d in np.eye(3)[:2].tolist() + [[0, 0, 1]]:                      # a nudge of θ, s or t only adds error
        for eps in (1e-3, -1e-3):
            th, sc = math.atan2(best[1, 0], best[0, 0]) + eps * d[0], fc.transform_scale(best) * (1 + eps * d[1])
            assert err(pose(th, sc, best[0, 2] + eps * d[2], best[1, 2])) >= err(best)
    mirrored = src * [-1, 1]
    assert np.linalg.det(fc.similarity_transform(src, mirrored)[:2, :2]) > 0
    with pytest.raises(ValueError, match="same shape"):
        fc.similarity_transform(src, dst[:4])
    with pytest.raises(ValueError, match="coincide"):
        fc.similarity_transform(np.ones((5, 2)), dst)


# ---------------------------------------------------------------------------------- align and paste back

def _synthetic_photo(H=180, W=220):
    """Grey photo with a smooth coloured 'face' pattern, and the landmarks of a face framed by a known
    similarity (120 photo px per unit, rotated 12°, unit square's origin at (60, 30))."""
    P = pose(math.radians(12), 120.0, 60.0, 30.0)                      # unit → photo
    lm = by_hand(P, fc.TEMPLATE)
    centre = by_hand(P, [[0.5, 0.55]])[0]
    y, x = torch.meshgrid(torch.arange(H, dtype=torch.float32), torch.arange(W, dtype=torch.float32), indexing="ij")
    r2 = ((x - centre[0]) ** 2 + (y - centre[1]) ** 2) / (2 * 14.0 ** 2)
    blob = torch.exp(-r2)
    photo = torch.full((3, H, W), 0.5)
    photo = photo + 0.4 * torch.stack([blob, -blob, 0.5 * blob * torch.cos(x / 6)])
    return photo.clamp(0, 1), lm, P, centre


def test_align_then_paste_back_puts_the_face_where_it_was():
    photo, lm, P, centre = _synthetic_photo()
    crop, T = fc.align_face(photo, lm, 40)
    assert crop.shape == (3, 40, 40) and 0 <= crop.min() and crop.max() <= 1
    assert np.allclose(T @ P, np.eye(3), atol=1e-9)                    # T undoes the framing
    red = crop[0] - crop[1]                                            # the blob lands at the template's (0.5, 0.55)
    iy, ix = divmod(int(red.argmax()), 40)
    assert abs((ix + 0.5) / 40 - 0.5) < 0.04 and abs((iy + 0.5) / 40 - 0.55) < 0.04
    blank = torch.full_like(photo, 0.2)
    pasted = fc.paste_back(blank, crop, T)
    y, x = torch.meshgrid(torch.arange(photo.shape[1]), torch.arange(photo.shape[2]), indexing="ij")
    q = torch.from_numpy(np.stack([x.numpy(), y.numpy()], -1).reshape(-1, 2).astype(np.float64))
    uv = fc.apply_transform(T, q.numpy()).reshape(*x.shape, 2)
    alpha = fc.face_alpha(torch.from_numpy(uv[..., 0]), torch.from_numpy(uv[..., 1]))
    inside, outside = alpha >= 0.999, alpha == 0
    assert inside.sum() > 2000 and outside.sum() > 10000
    assert (pasted - photo).abs()[:, inside].mean() < 0.003            # the face is back where it was (a 1.5-px
                                                                        # shift would give 0.008)
    assert torch.equal(pasted[:, outside], blank[:, outside])          # the rest of the photo is untouched
    assert torch.equal(pasted[:, :, -20:], blank[:, :, -20:]) and torch.equal(blank, torch.full_like(photo, 0.2))
    # a face crop larger than its footprint (240 px for ~120 photo px) is shrunk before pasting
    big, _ = fc.align_face(photo, lm, 240)
    assert (fc.paste_back(blank, big, T) - photo).abs()[:, inside].mean() < 0.003
    # into a ×2 photo: the same face, twice as large, at twice the coordinates
    up = fc.paste_back(bicubic_pil(blank, (2 * photo.shape[1], 2 * photo.shape[2])), crop, T, scale=2)
    ref = bicubic_pil(photo, (2 * photo.shape[1], 2 * photo.shape[2])).clamp(0, 1)
    cx, cy = (2 * centre + 0.5).round().astype(int)
    assert (up - ref)[:, cy - 20:cy + 20, cx - 20:cx + 20].abs().mean() < 0.003


def test_align_face_antialiases_a_large_face():
    """A face spanning ~240 photo px aligned to 16×16: warped at ≥ 240 px then PIL-bicubic shrunk, so a
    fine stripe pattern averages out (sampling it directly at 16×16 would alias)."""
    H = W = 300
    x = torch.arange(W, dtype=torch.float32)
    photo = (0.5 + 0.5 * torch.cos(math.pi * x))[None, None].expand(3, H, W).contiguous()   # 2-px stripes
    lm = by_hand(pose(0.0, 240.0, 30.0, 30.0), fc.TEMPLATE)
    crop, _ = fc.align_face(photo, lm, 16)
    assert (crop - 0.5).abs().max() < 0.05


def test_bad_arguments_are_named():
    photo = torch.rand(3, 40, 40)
    with pytest.raises(ValueError, match="5×2"):
        fc.align_face(photo, np.zeros((4, 2)), 16)
    with pytest.raises(ValueError, match="3×H×W"):
        fc.align_face(photo[0], fc.TEMPLATE * 30, 16)
    with pytest.raises(ValueError, match="feather"):
        fc.face_alpha(torch.zeros(1), torch.zeros(1), feather=0)


# ---------------------------------------------------------------------------------- dlib

@pytest.fixture(scope="module")
def astronaut():
    import skimage.data

    return torch.from_numpy(skimage.data.astronaut()).permute(2, 0, 1).float() / 255


@needs_faces
def test_detection_finds_the_astronaut_and_her_landmarks(astronaut):
    from selfsr_edu.data.samples import CROP_BOXES

    found = fc.detect_faces(astronaut)
    assert len(found) == 1, found                                      # not the mission patch on her suit
    (l, t, r, b), lm, score = found[0]
    assert score > 0.5
    L, T_, R_, B = CROP_BOXES["astronaut"]                             # the box chosen by eye holds dlib's
    assert L <= l < r <= R_ and T_ <= t < b <= B
    assert ((lm[:, 0] >= l) & (lm[:, 0] < r) & (lm[:, 1] >= t) & (lm[:, 1] < b)).all()
    assert lm[0, 0] > lm[1, 0] > lm[3, 0] > lm[2, 0]                   # dlib's order, image-right eye first
    assert lm[4, 1] > lm[:4, 1].max()                                  # the nose below the eyes
    crop, T = fc.align_face(astronaut, lm, 128)
    assert np.abs(fc.apply_transform(T, lm) - fc.TEMPLATE).max() < 0.03   # a real face fits the template


@needs_faces
def test_template_is_where_dlib_puts_synthfaces_landmarks():
    assert np.abs(fc.measure_template(n=12) - fc.TEMPLATE).max() < 0.02


def test_missing_extra_names_the_pip_command(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "dlib", None)                     # import dlib -> ImportError
    with pytest.raises(ImportError, match=r"pip install 'selfsr_edu\[faces\]'"):
        fc.detect_faces(torch.rand(3, 32, 32))
    save_image(torch.rand(3, 40, 40), tmp_path / "photo.png")
    assert main(["upscale", "--pretrained", "small-scb", str(tmp_path / "photo.png"),
                 "--out-dir", str(tmp_path / "o")]) == 2
    one_error_line(capsys, "photo.png is 40×40", "pip install 'selfsr_edu[faces]'", "--no-detect")
    monkeypatch.delitem(sys.modules, "dlib")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "face_recognition_models" else real(name, *a))
    with pytest.raises(ImportError, match="face_recognition_models.*selfsr_edu\\[faces\\]"):
        fc.check_available()


# ---------------------------------------------------------------------------------- the upscale verb

@pytest.fixture(scope="module")
def photo_png(astronaut, tmp_path_factory):
    """The astronaut at 160×160 as a PNG: dlib's box ~33 px, her aligned crop spans ~68 px (R wants 16)."""
    path = tmp_path_factory.mktemp("photos") / "astronaut.png"
    save_image(bicubic_pil(astronaut, 160).clamp(0, 1), path)
    return path


@needs_faces
def test_upscale_a_photo_announces_and_writes_its_size(photo_png, tmp_path, capsys):
    out = tmp_path / "up"
    assert main(["upscale", "--pretrained", "small-scb", str(photo_png), "--out-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "1 face found" in printed and "will be 1280×1280 (1.6 megapixels)" in printed
    result = load_image(out / "astronaut_x8.png")
    assert result.shape == (3, 1280, 1280)
    bicubic = bicubic_pil(load_image(photo_png), 1280).clamp(0, 1)
    diff = (result - bicubic).abs().amax(0)
    assert diff[900:, :].max() <= 1 / 255 + 1e-6                        # far from the face: the bicubic photo
    assert diff[100:500, 350:750].mean() > 2 / 255                      # the face: R's
    assert main(["upscale", "--pretrained", "small-scb", str(photo_png), "--out-dir", str(out)]) == 2
    one_error_line(capsys, "refusing to overwrite", "astronaut_x8.png")


@needs_faces
def test_upscale_faces_only_writes_face_crops(photo_png, tmp_path, capsys):
    out = tmp_path / "faces"
    assert main(["upscale", "--pretrained", "small-scb", str(photo_png), "--out-dir", str(out), "--faces-only"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["astronaut_face1_x8.png"]
    assert load_image(out / "astronaut_face1_x8.png").shape == (3, 128, 128)
    assert "the photo left alone" in capsys.readouterr().out


@needs_faces
def test_upscale_refusals_are_one_line(photo_png, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["upscale", "--pretrained", "small-scb", str(photo_png), "--out-dir", str(out),
                 "--max-pixels", "1000000"]) == 2
    one_error_line(capsys, "astronaut.png is 160×160", "1280×1280", "1.6 megapixels", "--max-pixels")
    Image.fromarray(np.full((90, 120, 3), 128, np.uint8)).save(tmp_path / "grey.png")
    assert main(["upscale", "--pretrained", "small-scb", str(tmp_path / "grey.png"), "--out-dir", str(out)]) == 2
    one_error_line(capsys, "grey.png is 120×90", "no face", "--no-detect")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (100, 100, 3), dtype=np.uint8)).save(tmp_path / "noise.png")
    assert main(["upscale", "--pretrained", "small-scb", str(photo_png), str(tmp_path / "noise.png"),
                 "--out-dir", str(out), "--faces-only"]) == 2               # one bad input: nothing written
    one_error_line(capsys, "noise.png", "no face")
    assert not out.exists()


def test_upscale_no_detect_keeps_the_aligned_face_mode(tmp_path, capsys):
    from selfsr_edu import reference

    R = reference.load("small-scb")
    for side in (16, 40):
        save_image(torch.rand(3, side, side), tmp_path / f"face{side}.png")
        assert main(["upscale", "--pretrained", "small-scb", str(tmp_path / f"face{side}.png"), "--no-detect",
                     "--out-dir", str(tmp_path / "up")]) == 0
        result = load_image(tmp_path / "up" / f"face{side}_x8.png")
        with torch.no_grad():
            expected = R(load_image(tmp_path / f"face{side}.png")[None]).clamp(0, 1)[0]
        assert result.shape == (3, 8 * side, 8 * side) and (result - expected).abs().max() <= 0.5 / 255 + 1e-6
    assert "an aligned face" in capsys.readouterr().out
    save_image(torch.rand(3, 100, 100), tmp_path / "big.png")
    assert main(["upscale", "--pretrained", "small-scb", str(tmp_path / "big.png"), "--no-detect",
                 "--out-dir", str(tmp_path / "up")]) == 2
    one_error_line(capsys, "big.png is 100×100", "--no-detect", "at most 64 px")


# ---------------------------------------------------------------------------------- data_scripts/align_faces.py

def _align_faces_main():
    spec = importlib.util.spec_from_file_location("align_faces", ROOT / "data_scripts" / "align_faces.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


@needs_faces
def test_align_faces_script(astronaut, tmp_path, capsys):
    src = tmp_path / "photos"
    (src / "sub").mkdir(parents=True)
    save_image(astronaut, src / "sub" / "astronaut.png")
    (src / "notes.txt").write_text("not an image")
    (src / "broken.png").write_text("not a png either")
    Image.fromarray(np.full((100, 100, 3), 90, np.uint8)).save(src / "grey.jpg")
    out = tmp_path / "aligned"
    align = _align_faces_main()
    assert align(["--src", str(src), "--out", str(out), "--size", "64"]) == 0
    res = capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == ["sub__astronaut_1.png"]
    crop = load_image(out / "sub__astronaut_1.png")
    assert crop.shape == (3, 64, 64)
    lm = fc.detect_faces(astronaut)[0].landmarks                          # the same crop as align_face's
    assert (crop - fc.align_face(astronaut, lm, 64)[0]).abs().max() <= 0.5 / 255 + 1e-6
    assert "notes.txt" in res.err and "broken.png" in res.err and "warning" in res.err
    assert "wrote 1 aligned 64×64 faces from 1 images" in res.out
    assert "no face found in 1 images" in res.out and "grey.jpg" in res.out
    before = (out / "sub__astronaut_1.png").read_bytes()
    assert align(["--src", str(src), "--out", str(out), "--size", "64"]) == 2
    assert "already exist" in capsys.readouterr().err
    assert (out / "sub__astronaut_1.png").read_bytes() == before
    assert align(["--src", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert "nowhere does not exist" in capsys.readouterr().err


def test_align_faces_script_runs_as_a_program(tmp_path):
    """The script starts as `python data_scripts/align_faces.py` (its imports resolve) and names the extra
    or the folder problem in one `error:` line."""
    res = subprocess.run([sys.executable, str(ROOT / "data_scripts" / "align_faces.py"), "--src",
                          str(tmp_path / "missing"), "--out", str(tmp_path / "o")], capture_output=True, text=True,
                         timeout=120, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert res.returncode == 2 and res.stderr.startswith("error: ") and "missing does not exist" in res.stderr


# ------------------------------------------------------------------------ a photo with many small faces

SCENE_FACES = [(64, 64), (64, 448), (64, 832), (448, 192), (448, 576), (448, 896)]   # (top, left) at ×8


def _scene(tmp_path):
    """Six SynthFaces (128 px) on a shaded backdrop, 1152×768, shrunk ×8 by PIL bicubic into the 'photo':
    each face's aligned crop then spans about 16 px, R's input size. Returns (photo path, HR scene)."""
    from selfsr_edu.data.io import quantise8
    from selfsr_edu.data.synthfaces import SynthFaces

    faces = SynthFaces(len(SCENE_FACES), size=128, seed=7)
    scene = torch.zeros(3, 768, 1152) + torch.tensor([0.35, 0.45, 0.4]).view(3, 1, 1)
    scene = scene + torch.linspace(0, 0.2, 1152).view(1, 1, -1)
    for i, (y, x) in enumerate(SCENE_FACES):
        scene[:, y:y + 128, x:x + 128] = faces[i]
    path = tmp_path / "group.png"
    save_image(quantise8(bicubic_pil(scene[None], (96, 144)))[0], path)
    return path, scene


@needs_faces
def test_upscale_finds_every_small_face_and_beats_bicubic_on_each(tmp_path):
    """The issue's check: every face found (OpenCV's cascade, confirmed on R's output), the announced size
    written, peak memory under 1.5 GB, and each pasted face closer to the true HR face than bicubic."""
    import resource

    from selfsr_edu.metrics import psnr

    photo_path, scene = _scene(tmp_path)
    out = tmp_path / "up"
    run = subprocess.run([sys.executable, "-m", "selfsr_edu", "upscale", "--pretrained", "small-scb", str(photo_path),
                          "--out-dir", str(out)], capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stderr
    assert "6 faces found" in run.stdout and "will be 1152×768" in run.stdout, run.stdout
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    assert peak_gb < 1.5, peak_gb
    result = load_image(out / "group_x8.png")
    assert result.shape == (3, 768, 1152)
    bicubic = bicubic_pil(load_image(photo_path)[None], (768, 1152))[0].clamp(0, 1)
    for y, x in SCENE_FACES:
        region = (slice(None), slice(y, y + 128), slice(x, x + 128))
        ours, bic = (psnr(img[region][None], scene[region][None], crop_border=8).item() for img in (result, bicubic))
        assert ours > bic + 0.2, (y, x, ours, bic)


@needs_faces
def test_small_face_candidates_on_noise_are_refused(tmp_path, capsys):
    """OpenCV's cascade fires on noise textures; R's output for them shows HOG no face, so none is kept."""
    noise = torch.rand(3, 200, 300, generator=torch.Generator().manual_seed(0))
    assert fc.detect_small_faces(noise, max_side=20)                  # the cascade alone is fooled ...
    save_image(noise, tmp_path / "noise.png")
    assert main(["upscale", "--pretrained", "small-scb", str(tmp_path / "noise.png"), "--out-dir",
                 str(tmp_path / "o")]) == 2                           # ... the pipeline is not
    one_error_line(capsys, "noise.png", "no face")
