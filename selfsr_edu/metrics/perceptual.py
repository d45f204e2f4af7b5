"""Perceptual metrics that need pretrained backbones: LPIPS and FID.

Neither backbone can be downloaded on an offline machine, so both take a
weights path (or find the file in the torch hub cache) and fail with a clear
message when it is missing. A randomly initialised backbone is never used:
its "LPIPS" or "FID" would be meaningless.

* LPIPS (Zhang et al., 2018) with the ``lpips`` package, AlexNet v0.1 by
  default: the package ships its linear calibration layers; the AlexNet
  features are torchvision's ImageNet weights, ``alexnet-owt-7be5be79.pth``.
* FID (Heusel et al., 2017): the Fréchet distance between Gaussians fitted to
  Inception-v3 pool features,

      FID = ||μ₁ − μ₂||² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^{1/2}).

  :func:`frechet_distance` implements the formula on any features;
  :func:`inception_features` needs the ``pytorch-fid`` package and its weights
  (``pt_inception-2015-12-05-6726825d.pth``). Always report the sample count:
  fewer than 2048 samples bias FID upwards.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

ALEXNET_FILE = "alexnet-owt-7be5be79.pth"
INCEPTION_FILE = "pt_inception-2015-12-05-6726825d.pth"


def _hub_file(name: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / name


def find_weights(path: str | os.PathLike | None, default_name: str, what: str) -> Path:
    """``path`` if given (must exist), else the torch hub cache's ``default_name``; clear error otherwise."""
    candidate = Path(path) if path else _hub_file(default_name)
    if not candidate.exists():
        raise FileNotFoundError(
            f"{what} weights not found at {candidate}. This machine cannot download them: copy "
            f"{default_name} from a machine with network access (torchvision/pytorch-fid download it into "
            f"~/.cache/torch/hub/checkpoints/) and pass its path. No score is computed with random weights.")
    _check_published(candidate, default_name, what)
    return candidate


def _check_published(path: Path, published_name: str, what: str) -> None:
    """The file must be the published one: torchvision and pytorch-fid name their weight files after the
    first 8 hex digits of the file's sha256 (``...-7be5be79.pth``), so anything else is refused."""
    from selfsr_edu.data.io import sha256

    expected, digest = published_name.rsplit("-", 1)[-1].split(".")[0], sha256(path)
    if not digest.startswith(expected):
        raise ValueError(f"{path} is not the published {what} weights ({published_name}: sha256 {expected}…, this "
                         f"file {digest[:8]}…); another network's or a random backbone's number would not "
                         "be LPIPS/FID")


class LPIPSMetric:
    """LPIPS distance, ``lpips`` package, AlexNet v0.1 (lower is more similar).

    ``backbone_weights``: path to torchvision's ``alexnet-owt-7be5be79.pth``
    (default: the torch hub cache). Images in [0, 1]; returns a tensor of N.
    """

    def __init__(self, backbone_weights: str | os.PathLike | None = None, device: str | torch.device = "cpu"):
        path = find_weights(backbone_weights, ALEXNET_FILE, "LPIPS AlexNet backbone")
        import lpips

        self.model = lpips.LPIPS(net="alex", version="0.1", pretrained=True, pnet_rand=True, verbose=False)
        state = torch.load(path, map_location="cpu", weights_only=True)
        layers = {}
        for s in range(1, self.model.net.N_slices + 1):
            for name, module in getattr(self.model.net, f"slice{s}").named_children():
                layers[int(name)] = module
        loaded = 0
        for key, value in state.items():
            parts = key.split(".")
            if parts[0] == "features" and int(parts[1]) in layers:
                getattr(layers[int(parts[1])], parts[2]).data.copy_(value)
                loaded += 1
        if loaded != 10:  # 5 convolutions × (weight, bias)
            raise ValueError(f"{path} does not look like torchvision AlexNet weights ({loaded} of 10 tensors found)")
        self.backbone = "alex (v0.1)"
        self.model = self.model.to(device).eval()
        self.device = torch.device(device)

    @torch.no_grad()
    def __call__(self, images: torch.Tensor, reference: torch.Tensor, batch: int = 32) -> torch.Tensor:
        out = []
        for i in range(0, images.shape[0], batch):
            a = images[i:i + batch].to(self.device) * 2 - 1
            b = reference[i:i + batch].to(self.device) * 2 - 1
            out.append(self.model(a, b).flatten().cpu())
        return torch.cat(out)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
    """``||μ₁ − μ₂||² + Tr(Σ₁ + Σ₂ − 2 sqrt(Σ₁Σ₂))`` (pytorch-fid's numerics, incl. its ε fallback)."""
    from scipy import linalg

    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"frechet_distance: shapes differ, mu {mu1.shape} vs {mu2.shape}, "
                         f"sigma {sigma1.shape} vs {sigma2.shape}")
    diff = mu1 - mu2
    covmean = linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def fid_from_features(features_a, features_b) -> float:
    """FID between two N×D feature sets (mean and unbiased covariance of each)."""
    a = np.asarray(features_a, np.float64)
    b = np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"fid_from_features: expected N×D and M×D arrays, got {a.shape} and {b.shape}")
    if min(a.shape[0], b.shape[0]) < 2:
        raise ValueError("fid_from_features: need at least 2 samples per set")
    return frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))


@torch.no_grad()
def inception_features(images: torch.Tensor, weights: str | os.PathLike | None = None,
                       device: str | torch.device = "cpu", batch: int = 50) -> np.ndarray:
    """2048-d Inception-v3 pool features (pytorch-fid's network and weights) of [0, 1] images."""
    path = find_weights(weights, INCEPTION_FILE, "FID Inception-v3")
    try:
        from pytorch_fid.inception import InceptionV3
    except ImportError as exc:
        raise ImportError("FID needs the pytorch-fid package (pip install pytorch-fid) for the Inception network; "
                          "frechet_distance() works on features you computed elsewhere") from exc
    import tempfile

    # pytorch-fid loads its weights through the torch hub cache: point a temporary hub dir at the file
    old = torch.hub.get_dir()
    with tempfile.TemporaryDirectory() as hub:
        (Path(hub) / "checkpoints").mkdir()
        (Path(hub) / "checkpoints" / INCEPTION_FILE).symlink_to(path.resolve())
        torch.hub.set_dir(hub)
        try:
            model = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]], use_fid_inception=True)
        finally:
            torch.hub.set_dir(old)
    model = model.to(device).eval()
    feats = []
    for i in range(0, images.shape[0], batch):
        feats.append(model(images[i:i + batch].to(device))[0].flatten(1).cpu())
    return torch.cat(feats).numpy()


def fid(images: torch.Tensor, reference: torch.Tensor, weights: str | os.PathLike | None = None,
        device: str | torch.device = "cpu") -> dict:
    """FID between two image sets; returns ``{"fid", "n_images", "n_reference"}`` (report the counts)."""
    fa = inception_features(images, weights, device)
    fb = inception_features(reference, weights, device)
    return {"fid": fid_from_features(fa, fb), "n_images": int(images.shape[0]), "n_reference": int(reference.shape[0])}


__all__ = ["LPIPSMetric", "frechet_distance", "fid_from_features", "inception_features", "fid", "find_weights"]
