"""Identity under degradation (Fig. 8): retrieval against hand-computed distances, the features, dlib."""
import sys

import pytest
import torch

from selfsr_edu.metrics import identity
from selfsr_edu.metrics.identity import identity_retrieval, pixel_features


def test_retrieval_matches_hand_computed_distances():
    gallery = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    query = torch.tensor([[1.0, 0.0], [4.0, 0.0], [0.0, 12.0]])      # face 1 is nearer face 0 (4 vs 6)
    r = identity_retrieval(query, gallery)
    assert r["kept"].tolist() == [True, False, True] and r["top1"] == pytest.approx(2 / 3)
    assert r["own"] == pytest.approx((1 + 6 + 2) / 3)
    assert r["other"] == pytest.approx((9 + 4 + 12) / 3)        # query 2: face 0 at 12, face 1 at 15.6


def test_retrieval_identity_and_permutation():
    g = torch.randn(6, 5, generator=torch.Generator().manual_seed(0))
    assert identity_retrieval(g, g)["top1"] == 1.0
    assert identity_retrieval(g.roll(1, 0), g)["top1"] == 0.0
    with pytest.raises(ValueError, match="same shape"):
        identity_retrieval(g, g[:5])


def test_pixel_features_are_ycbcr_of_the_8x8_face():
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    f = pixel_features(x).view(2, 3, 8, 8)
    y = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    assert torch.allclose(f[:, 0], y) and torch.allclose(f[:, 1], 0.564 * (x[:, 2] - y))
    assert torch.allclose(f[:, 2], 0.713 * (x[:, 0] - y))
    grey = torch.full((1, 3, 16, 16), 0.5)
    assert torch.allclose(pixel_features(grey).view(3, 8, 8)[1:], torch.zeros(2, 8, 8), atol=1e-6)


@pytest.mark.skipif(not identity.dlib_available(), reason="the faces extra (dlib) is not installed")
def test_dlib_descriptors_same_face_same_descriptor():
    from selfsr_edu.data.synthfaces import SynthFaces

    faces = SynthFaces(3, size=64, seed=0)
    x = torch.stack([faces[i] for i in range(3)])
    d = identity.dlib_descriptors(torch.cat([x, x[:1]]))
    assert d.shape == (4, 128)
    assert torch.allclose(d[0], d[3]) and (d[0] - d[1]).norm() > 0.05


def test_dlib_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dlib", None)                   # import dlib -> ImportError
    with pytest.raises(ImportError, match=r"selfsr_edu\[faces\]"):
        identity.dlib_descriptors(torch.rand(1, 3, 16, 16))
    assert not identity.dlib_available()
