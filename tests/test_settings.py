"""The paper's two settings on SynthFaces: paired ×8 (DIC protocol) and unpaired real-world ×4."""
import numpy as np
import pytest
import torch
from PIL import Image

from selfsr_edu.data import PairedSynthFaces, WildDegradation, WildSynthFaces, sample_faces
from selfsr_edu.data import settings


def _pil_bicubic_u8(x, size):
    """Independent reference: PIL on the 8-bit image."""
    arr = (x.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    out = np.asarray(Image.fromarray(arr).resize((size, size), Image.BICUBIC), np.float32) / 255
    return torch.from_numpy(out).permute(2, 0, 1)


def _on_8bit_grid(x):
    return torch.equal(x * 255, (x * 255).round())


# --- paired ×8 -------------------------------------------------------------------------------
def test_paired_item_shapes_and_dic_lr():
    ds = PairedSynthFaces(2)
    item = ds[1]
    assert set(item) == {"hr", "lr"}
    assert item["hr"].shape == (3, 128, 128) and item["lr"].shape == (3, 16, 16)
    assert _on_8bit_grid(item["hr"]) and _on_8bit_grid(item["lr"])
    ref = _pil_bicubic_u8(item["hr"], 16)
    assert float((item["lr"] - ref).abs().max()) <= 1.0 / 255 + 1e-6


def test_paired_other_scales():
    item = PairedSynthFaces(1, hr_size=64, scale=4)[0]
    assert item["hr"].shape == (3, 64, 64) and item["lr"].shape == (3, 16, 16)
    with pytest.raises(ValueError, match="scale"):
        PairedSynthFaces(1, hr_size=128, scale=3)


def test_paired_is_deterministic_and_splits_are_disjoint():
    tr, te = PairedSynthFaces(3, "train"), PairedSynthFaces(3, "test")
    assert torch.equal(tr[2]["hr"], PairedSynthFaces(3, "train")[2]["hr"])
    train_ids = {tr.faces._index(i) for i in range(3)}
    test_ids = {te.faces._index(i) for i in range(3)}
    assert not train_ids & test_ids
    assert (tr[0]["hr"] - te[0]["hr"]).abs().mean() > 0.02
    assert tr.params(0) != te.params(0)
    # the ranges cannot meet whatever n is
    assert settings.PAIRED_TRAIN_START + settings.RANGE_LEN <= settings.PAIRED_TEST_START
    with pytest.raises(ValueError, match="n must be"):
        PairedSynthFaces(settings.RANGE_LEN + 1)
    with pytest.raises(ValueError, match="split"):
        PairedSynthFaces(2, "val")


def test_paired_train_is_plain_synthfaces():
    from selfsr_edu.data import SynthFaces

    assert torch.equal(PairedSynthFaces(2)[1]["hr"], SynthFaces(2)[1])


# --- unpaired real-world ×4 ------------------------------------------------------------------
def test_wild_ranges_are_pairwise_disjoint():
    starts = sorted([settings.PAIRED_TRAIN_START, settings.PAIRED_TEST_START, settings.WILD_HR_START,
                     settings.WILD_LR_START, settings.WILD_TEST_START])
    assert all(b - a >= settings.RANGE_LEN for a, b in zip(starts, starts[1:]))
    tr, te = WildSynthFaces(3, "train"), WildSynthFaces(3, "test")
    A = {tr.hr_faces._index(i) for i in range(3)}
    B = {tr.lr_faces._index(i) for i in range(3)}
    C = {te.hr_faces._index(i) for i in range(3)}
    assert not (A & B or A & C or B & C)


def test_wild_train_item():
    ds = WildSynthFaces(2, "train", seed=1)
    it = ds[1]
    assert set(it) == {"hr", "lr_clean", "lr_true", "lr_real"}
    assert it["hr"].shape == (3, 64, 64)
    for k in ("lr_clean", "lr_true", "lr_real"):
        assert it[k].shape == (3, 16, 16) and _on_8bit_grid(it[k]) and 0 <= float(it[k].min()) <= float(it[k].max()) <= 1
    # I_syn^L is the PIL bicubic LR of the HR face
    assert float((it["lr_clean"] - _pil_bicubic_u8(it["hr"], 16)).abs().max()) <= 1.0 / 255 + 1e-6
    # the known truth: the hidden degradation of I_syn^L, with the parameters of face A+i
    k = ds.hr_faces._index(1)
    truth = WildDegradation(seed=1)(it["lr_clean"][None], [k])[0]
    assert torch.equal(it["lr_true"], truth)
    assert float((it["lr_true"] - it["lr_clean"]).abs().mean()) > 0.005
    # the real LR face is another identity (unpaired): far from the truth of this HR face
    assert float((it["lr_real"] - it["lr_true"]).abs().mean()) > 0.03
    assert ds.params(1)["hr"] != ds.params(1)["real"]
    assert ds.params(1)["hr_degradation"] == WildDegradation(seed=1).sample_params(k)


def test_wild_real_lr_is_a_degraded_face_from_range_b():
    ds = WildSynthFaces(1, "train")
    from selfsr_edu.data import SynthFaces

    from selfsr_edu.resize import bicubic_pil

    other = SynthFaces(1, size=64, offset=settings.WILD_LR_START)[0]
    clean = settings.quantise8(bicubic_pil(other[None], 16))
    assert float((clean[0] - _pil_bicubic_u8(other, 16)).abs().max()) <= 1.0 / 255 + 1e-6
    ref = WildDegradation(0)(clean, [settings.WILD_LR_START])[0]
    assert torch.equal(ds[0]["lr_real"], ref)


def test_wild_test_split_has_known_clean_hr():
    ds = WildSynthFaces(2, "test")
    it = ds[0]
    assert set(it) == {"hr", "lr_clean", "lr_real"}
    assert float((it["lr_clean"] - _pil_bicubic_u8(it["hr"], 16)).abs().max()) <= 1.0 / 255 + 1e-6
    k = ds.hr_faces._index(0)
    assert torch.equal(it["lr_real"], WildDegradation(0)(it["lr_clean"][None], [k])[0])


def test_wild_items_are_deterministic_per_seed_split_index():
    a, b = WildSynthFaces(2, "train", seed=3)[1], WildSynthFaces(2, "train", seed=3)[1]
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = WildSynthFaces(2, "train", seed=4)[1]
    assert not torch.equal(a["hr"], c["hr"])


def test_wild_bad_arguments():
    with pytest.raises(ValueError, match="split"):
        WildSynthFaces(2, "valid")
    with pytest.raises(ValueError, match="lr_size"):
        WildSynthFaces(2, hr_size=16, lr_size=32)


# --- real sample faces -----------------------------------------------------------------------
def test_sample_faces_are_two_aligned_real_faces():
    x = sample_faces()
    assert x.shape == (2, 3, 128, 128) and _on_8bit_grid(x)
    assert float(x.std()) > 0.1
    # a face in the middle: the central region is skin-coloured (R > G > B) in both photos
    centre = x[:, :, 48:80, 40:88].mean(dim=(2, 3))
    assert bool((centre[:, 0] > centre[:, 1]).all()) and bool((centre[:, 1] > centre[:, 2]).all())
