"""Image I/O: conversions on load, clear errors naming the file, no silent overwrite."""
import numpy as np
import pytest
import torch
from PIL import Image

from selfsr_edu.data import FaceFolder, load_image, save_image
from selfsr_edu.data.io import ImageReadError


def test_rgb_png_roundtrip_is_exact(tmp_path):
    arr = np.random.default_rng(0).integers(0, 256, (10, 12, 3), dtype=np.uint8)
    Image.fromarray(arr).save(tmp_path / "a.png")
    x = load_image(tmp_path / "a.png")
    assert x.shape == (3, 10, 12) and x.dtype == torch.float32
    assert torch.equal(x.mul(255).round().to(torch.uint8).permute(1, 2, 0), torch.from_numpy(arr))
    save_image(x, tmp_path / "b.png")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "b.png")), arr)


def test_grayscale_is_expanded_to_rgb(tmp_path):
    Image.fromarray(np.full((4, 5), 51, np.uint8), mode="L").save(tmp_path / "g.png")
    x = load_image(tmp_path / "g.png")
    assert x.shape == (3, 4, 5)
    assert torch.allclose(x, torch.full_like(x, 0.2))


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 0] = 255          # red
    rgba[..., 3] = 0            # fully transparent
    rgba[0, 0, 3] = 255         # one opaque pixel
    rgba[1, 1, 3] = 51          # 20 % opaque red over white
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "t.png")
    x = load_image(tmp_path / "t.png")
    assert x[:, 0, 0].tolist() == pytest.approx([1, 0, 0])
    assert x[:, 0, 1].tolist() == pytest.approx([1, 1, 1])
    assert x[:, 1, 1].tolist() == pytest.approx([1, 0.8, 0.8], abs=1e-6)


def test_16_bit_images_are_scaled(tmp_path):
    arr = np.array([[0, 65535], [32768, 16384]], dtype=np.uint16)
    Image.fromarray(arr).save(tmp_path / "d.png")
    x = load_image(tmp_path / "d.png")
    assert x.shape == (3, 2, 2)
    assert x[0].flatten().tolist() == pytest.approx([0, 1, 32768 / 65535, 16384 / 65535], abs=1e-6)


def test_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.png"):
        load_image(tmp_path / "nope.png")
    (tmp_path / "notes.png").write_text("this is not a picture")
    with pytest.raises(ImageReadError, match="notes.png.*not an image"):
        load_image(tmp_path / "notes.png")
    arr = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(arr).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="cut.png.*corrupt or truncated"):
        load_image(tmp_path / "cut.png")
    with pytest.raises(IsADirectoryError):
        load_image(tmp_path)


def test_save_image_never_overwrites_unless_asked(tmp_path):
    path = tmp_path / "out.png"
    save_image(torch.zeros(3, 4, 4), path)
    with pytest.raises(FileExistsError, match="out.png"):
        save_image(torch.ones(3, 4, 4), path)
    assert load_image(path).max() == 0  # untouched
    save_image(torch.ones(3, 4, 4), path, overwrite=True)
    assert load_image(path).min() == 1
    with pytest.raises(ValueError, match="PNG"):
        save_image(torch.zeros(3, 4, 4), tmp_path / "x.jpg")


def test_face_folder_recursive_sorted_resized(tmp_path):
    (tmp_path / "b").mkdir()
    for name, shape in [("b/2.png", (40, 60, 3)), ("a.jpg", (32, 32, 3)), ("b/1.png", (32, 32))]:
        arr = np.random.default_rng(len(name)).integers(0, 256, shape, dtype=np.uint8)
        Image.fromarray(arr).save(tmp_path / name)
    (tmp_path / "readme.txt").write_text("ignored")
    ds = FaceFolder(tmp_path, size=16)
    assert [p.relative_to(tmp_path).as_posix() for p in ds.files] == ["a.jpg", "b/1.png", "b/2.png"]
    items = [ds[i] for i in range(len(ds))]
    assert all(t.shape == (3, 16, 16) for t in items)
    assert all(0 <= t.min() and t.max() <= 1 for t in items)


def test_face_folder_reports_all_bad_files_at_once(tmp_path):
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "ok.png")
    (tmp_path / "bad1.png").write_text("x")
    (tmp_path / "bad2.jpg").write_bytes(b"\x00\x01")
    ds = FaceFolder(tmp_path, size=8)
    with pytest.raises(ValueError) as info:
        ds[0]
    msg = str(info.value)
    assert "2 of 3 files" in msg and "bad1.png" in msg and "bad2.jpg" in msg


def test_face_folder_empty_or_missing(tmp_path):
    with pytest.raises(ValueError, match="contains no images"):
        FaceFolder(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        FaceFolder(tmp_path / "missing")


def test_exif_orientation_is_applied(tmp_path):
    from PIL import Image
    arr = (torch.rand(3, 20, 30) * 255).round().byte().permute(1, 2, 0).numpy()
    img = Image.fromarray(arr)
    exif = img.getexif()
    exif[0x0112] = 6                                   # "rotate 90° clockwise to display"
    img.save(tmp_path / "portrait.jpg", exif=exif, quality=95)
    loaded = load_image(tmp_path / "portrait.jpg")
    assert loaded.shape == (3, 30, 20)                  # upright: width and height swapped
    plain = load_image(_save_plain(tmp_path, img))
    assert (loaded - torch.rot90(plain, -1, dims=(1, 2))).abs().mean() < 0.02


def _save_plain(tmp_path, img):
    img.save(tmp_path / "plain.jpg", quality=95)
    return tmp_path / "plain.jpg"


def test_truncated_jpeg_and_decompression_bomb_are_named(tmp_path, monkeypatch, capsys):
    from PIL import Image

    from selfsr_edu.cli import main
    from selfsr_edu.data.io import ImageReadError
    Image.fromarray((torch.rand(64, 64, 3) * 255).byte().numpy()).save(tmp_path / "ok.jpg")
    data = (tmp_path / "ok.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="cut.jpg.*truncated"):
        load_image(tmp_path / "cut.jpg")
    assert main(["check-images", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "cut.jpg" in err and "ok.jpg" not in err.replace("cut.jpg", "")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)   # 64×64 > 2 × 1000: a "bomb" here
    with pytest.raises(ImageReadError, match="ok.jpg is too large"):
        load_image(tmp_path / "ok.jpg")


def test_16_bit_rgb_png_keeps_its_precision(tmp_path):
    cv2 = pytest.importorskip("cv2", reason="16-bit RGB PNGs are read exactly with OpenCV (faces extra)")
    import numpy as np
    rgb = np.random.default_rng(0).integers(0, 65536, (12, 10, 3), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), rgb[..., ::-1])
    loaded = load_image(tmp_path / "deep.png")
    assert loaded.dtype == torch.float32 and loaded.shape == (3, 12, 10)
    expected = torch.from_numpy(rgb.astype(np.float64) / 65535).permute(2, 0, 1).float()
    assert torch.equal(loaded, expected)                # all 16 bits survive, not 8


def test_save_image_refuses_nan_and_non_float(tmp_path):
    import pytest
    import torch

    from selfsr_edu.data.io import save_image

    bad = torch.rand(3, 8, 8)
    bad[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"nan\.png not written: the image holds NaN"):
        save_image(bad, tmp_path / "nan.png")
    with pytest.raises(ValueError, match=r"u8\.png not written: .*float tensor.*torch\.uint8"):
        save_image(torch.zeros(3, 8, 8, dtype=torch.uint8), tmp_path / "u8.png")
    assert not any(tmp_path.iterdir())
