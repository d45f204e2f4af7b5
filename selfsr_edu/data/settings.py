"""Datasets for the paper's two settings, built on SynthFaces.

(a) **Paired ×8** (Table I, the DIC protocol): HR 128×128 faces, LR 16×16 by
    PIL-compatible bicubic (:func:`selfsr_edu.resize.bicubic_pil`), LR
    quantised to 8 bits as if saved to PNG.
(b) **Unpaired real-world ×4** (Sec. IV-B): HR 64×64 faces from one range of
    faces, "real" LR 16×16 faces from a disjoint range, downsampled and then
    degraded by the hidden :class:`~selfsr_edu.data.wild.WildDegradation`;
    plus a test split whose clean HR is known, so SR in the wild can be scored
    with PSNR/SSIM (which the paper could not do on Widerface).

Face index ranges (item ``i`` of a split is SynthFaces face ``START + i`` of
world ``seed``; each range holds :data:`RANGE_LEN` faces, so they never
overlap):

==========================  ===========================
paired  ``train``           ``[0, 10^8)``
paired  ``test``            ``[10^8, 2·10^8)``
wild    ``train`` HR (A)    ``[2·10^8, 3·10^8)``
wild    ``train`` LR (B)    ``[3·10^8, 4·10^8)``
wild    ``test``  (C)       ``[4·10^8, 5·10^8)``
==========================  ===========================

The wild degradation of face ``k`` uses ``WildDegradation(seed).sample_params(k)``
with ``k`` the global face index, so every item is deterministic per
``(seed, split, index)``.
"""
from __future__ import annotations

import torch

from selfsr_edu.data.io import quantise8, to_uint8
from selfsr_edu.resize import bicubic_pil
from selfsr_edu.data.synthfaces import SynthFaces
from selfsr_edu.data.wild import WildDegradation

RANGE_LEN = 100_000_000
PAIRED_TRAIN_START = 0
PAIRED_TEST_START = 1 * RANGE_LEN
WILD_HR_START = 2 * RANGE_LEN  # range A
WILD_LR_START = 3 * RANGE_LEN  # range B
WILD_TEST_START = 4 * RANGE_LEN  # range C


def _check(n, split, splits):
    if split not in splits:
        raise ValueError(f"split must be one of {splits}, got {split!r}")
    if not 0 <= int(n) <= RANGE_LEN:
        raise ValueError(f"n must be in [0, {RANGE_LEN}], got {n}")


class PairedSynthFaces(torch.utils.data.Dataset):
    """Paired ×8 setting, DIC protocol: HR 128×128 SynthFaces, LR 16×16 by PIL-compatible bicubic
    (selfsr_edu.resize.bicubic_pil), LR quantised to 8 bits as if saved to PNG.

    Item ``i`` -> ``{"hr": 3×hr_size×hr_size, "lr": 3×(hr_size//scale)×(hr_size//scale)}``.
    ``train`` uses faces ``[0, 10^8)``, ``test`` faces ``[10^8, 2·10^8)`` (disjoint).
    """

    def __init__(self, n: int, split: str = "train", hr_size: int = 128, scale: int = 8, seed: int = 0):
        _check(n, split, ("train", "test"))
        if int(scale) < 1 or int(hr_size) % int(scale):
            raise ValueError(f"scale must be >= 1 and divide hr_size, got hr_size={hr_size}, scale={scale}")
        self.n, self.split, self.hr_size, self.scale, self.seed = int(n), split, int(hr_size), int(scale), int(seed)
        self.lr_size = self.hr_size // self.scale
        start = PAIRED_TRAIN_START if split == "train" else PAIRED_TEST_START
        self.faces = SynthFaces(self.n, size=self.hr_size, seed=self.seed, offset=start)

    def __len__(self) -> int:
        return self.n

    def params(self, i: int) -> dict:
        """Face parameters of item ``i``."""
        return self.faces.params(i)

    def __getitem__(self, i: int) -> dict:
        hr = self.faces[i]
        lr = quantise8(bicubic_pil(hr[None], self.lr_size)[0])
        return {"hr": hr, "lr": lr}


class WildSynthFaces(torch.utils.data.Dataset):
    """Unpaired real-world ×4 setting of Sec. IV-B on SynthFaces: HR 64×64, LR 16×16.

    ``train`` item ``i``:

    * ``hr``: face ``A + i`` at ``hr_size`` (I_real^H);
    * ``lr_clean``: ``quantise8(bicubic_pil(hr, lr_size))`` (I_syn^L, G's clean input);
    * ``lr_true``: the hidden degradation applied to ``lr_clean`` with the
      parameters of face ``A + i`` (the known truth G should learn; never
      use it for training);
    * ``lr_real``: face ``B + i`` downsampled the same way then wild-degraded
      with the parameters of face ``B + i`` (I_real^L, unpaired with ``hr``).

    ``test`` item ``i``: ``hr`` (face ``C + i``), ``lr_clean`` and ``lr_real``
    (its wild-degraded LR), so SR in the wild is scored against ``hr``.
    """

    def __init__(self, n: int, split: str = "train", hr_size: int = 64, lr_size: int = 16, seed: int = 0):
        _check(n, split, ("train", "test"))
        if int(lr_size) < 1 or int(lr_size) > int(hr_size):
            raise ValueError(f"lr_size must be in [1, hr_size], got hr_size={hr_size}, lr_size={lr_size}")
        self.n, self.split, self.hr_size, self.lr_size, self.seed = int(n), split, int(hr_size), int(lr_size), int(seed)
        self.degradation = WildDegradation(self.seed)
        if split == "train":
            self.hr_faces = SynthFaces(self.n, size=self.hr_size, seed=self.seed, offset=WILD_HR_START)
            self.lr_faces = SynthFaces(self.n, size=self.hr_size, seed=self.seed, offset=WILD_LR_START)
        else:
            self.hr_faces = SynthFaces(self.n, size=self.hr_size, seed=self.seed, offset=WILD_TEST_START)
            self.lr_faces = self.hr_faces

    def __len__(self) -> int:
        return self.n

    def _down(self, hr: torch.Tensor) -> torch.Tensor:
        return quantise8(bicubic_pil(hr[None], self.lr_size))

    def params(self, i: int) -> dict:
        """Face and degradation parameters of item ``i`` (``hr``/``real`` parts)."""
        out = {"hr": self.hr_faces.params(i), "hr_degradation": self.degradation.sample_params(self.hr_faces._index(i))}
        if self.split == "train":
            out["real"] = self.lr_faces.params(i)
            out["real_degradation"] = self.degradation.sample_params(self.lr_faces._index(i))
        return out

    def __getitem__(self, i: int) -> dict:
        hr = self.hr_faces[i]
        lr_clean = self._down(hr)
        k_hr = self.hr_faces._index(i)
        if self.split == "test":
            lr_real = self.degradation(lr_clean, [k_hr])
            return {"hr": hr, "lr_clean": lr_clean[0], "lr_real": lr_real[0]}
        lr_true = self.degradation(lr_clean, [k_hr])
        other = self._down(self.lr_faces[i])
        lr_real = self.degradation(other, [self.lr_faces._index(i)])
        return {"hr": hr, "lr_clean": lr_clean[0], "lr_true": lr_true[0], "lr_real": lr_real[0]}


def sr_pairs(mode: str, split: str, n: int, levels: int = 3, lr_size: int = 16, seed: int = 0) -> dict:
    """``{"lr", "hr"}`` of a stage-2 setting as uint8 N×3×H×W tensors (a small training set lives in memory).

    ``"paired"``/``"unpaired"``: the paired ×2^levels set (unpaired training draws LR and HR
    independently); ``"pseudo"``: SynthFaces-wild, LR = the clean bicubic LR for ``train``
    (stage-1's G degrades it) and the truly degraded LR for ``test``.
    """
    hr_size = lr_size << levels
    if mode == "pseudo":
        ds, lr_key = WildSynthFaces(n, split, hr_size=hr_size, lr_size=lr_size, seed=seed), \
            ("lr_clean" if split == "train" else "lr_real")
    else:
        ds, lr_key = PairedSynthFaces(n, split, hr_size=hr_size, scale=1 << levels, seed=seed), "lr"
    items = [ds[i] for i in range(n)]
    out = {}
    for key, src in (("lr", lr_key), ("hr", "hr")):
        x = torch.stack([it[src] for it in items]) if items else torch.zeros(0, 3, 1, 1)
        out[key] = to_uint8(x)
    return out


def load_wild_lr(n_train: int, n_eval: int, hr_size: int = 64, lr_size: int = 16, seed: int = 0,
                 progress: bool = False, snapshot: str | None = None) -> dict[str, torch.Tensor]:
    """Stage 1's SynthFaces-wild tensors: ``train_clean``/``train_real`` (unpaired) and
    ``eval_clean``/``eval_real``/``eval_true`` (held out: the last ``n_eval`` items).

    ``*_clean`` is I_syn^L (G's input), ``*_real`` the unpaired real wild LR (what D_L
    sees as real), ``eval_true`` the hidden true degradation of ``eval_clean`` (for
    measurement only, never for training). ``snapshot``: a ``.pt`` file read if it exists
    (checked against the sizes asked for), else written, so several runs use identical faces.
    """
    from pathlib import Path

    from tqdm.auto import tqdm

    expect = {"train_clean": n_train, "train_real": n_train, "eval_clean": n_eval, "eval_real": n_eval,
              "eval_true": n_eval}
    if snapshot and Path(snapshot).exists():
        data = torch.load(snapshot, map_location="cpu", weights_only=True)
        if not isinstance(data, dict) or any(k not in data or data[k].shape != (n, 3, lr_size, lr_size)
                                             for k, n in expect.items()):
            held = {k: tuple(v.shape) for k, v in data.items()} if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"data file {snapshot} does not fit n_train={n_train}, n_eval={n_eval}, "
                             f"lr_size={lr_size}: it holds {held}")
        return data

    ds = WildSynthFaces(n_train + n_eval, split="train", hr_size=hr_size, lr_size=lr_size, seed=seed)
    keys = ("lr_clean", "lr_real", "lr_true")
    items = [ds[i] for i in tqdm(range(len(ds)), desc="SynthFaces-wild", disable=not progress, leave=False)]
    t = {k: torch.stack([it[k] for it in items]) for k in keys}
    data = {"train_clean": t["lr_clean"][:n_train], "train_real": t["lr_real"][:n_train],
            "eval_clean": t["lr_clean"][n_train:], "eval_real": t["lr_real"][n_train:],
            "eval_true": t["lr_true"][n_train:]}
    if snapshot:
        Path(snapshot).parent.mkdir(parents=True, exist_ok=True)
        torch.save(data, snapshot)
    return data


def folder_faces(folder: str, size: int, flag: str = "--hr-dir", resize: bool = False) -> torch.Tensor:
    """Every image of a folder (:class:`~selfsr_edu.data.datasets.FaceFolder`, sorted by path) as an
    N×3×size×size uint8 tensor; every file is decoded first. Images of another size are an error that
    lists them, unless ``resize`` (``--resize``): then each is cut to its centre square and PIL-bicubic
    resized, and a line on stderr says how many were."""
    import sys

    from selfsr_edu.data.datasets import FaceFolder, center_square

    try:
        ds = FaceFolder(folder, size=None)
        ds.validate()
    except (FileNotFoundError, NotADirectoryError, ValueError) as exc:
        raise type(exc)(f"{flag}: {exc}") from None
    faces, wrong = [], []
    for i, path in enumerate(ds.files):
        image = ds[i]
        if image.shape[-2:] != (size, size):
            wrong.append(f"{path.name} ({image.shape[-1]}×{image.shape[-2]})")
            image = bicubic_pil(center_square(image)[None], size)[0].clamp(0, 1) if resize else image
        faces.append(to_uint8(image) if image.shape[-2:] == (size, size) else None)
    if wrong and not resize:
        raise ValueError(f"{flag} {folder}: {len(wrong)} of {len(ds)} images are not {size}×{size}, e.g. "
                         f"{', '.join(wrong[:3])}; pass --resize to cut each to its centre square and resize it "
                         "(PIL bicubic), or prepare them first (data_scripts/prepare_dic.py)")
    if wrong:
        print(f"{flag} {folder}: resized {len(wrong)} of {len(ds)} images to {size}×{size} (centre square, "
              "PIL bicubic)", file=sys.stderr)
    return torch.stack(faces)


def hr_faces(data: str, split: str, n: int, size: int, hr_dir: str | None = None, root: str | None = None,
             n_test: int = 0, download: bool = False, resize: bool = False) -> torch.Tensor:
    """HR faces (uint8) of your own data for a ``split``: ``"folder"``: the folder's images, the last
    ``n_test`` (sorted by path) held out as ``test``, the first ``n`` of the rest for ``train``;
    ``"celeba"``: :func:`~selfsr_edu.data.celeba.celeba_faces` (its official partitions)."""
    if data == "celeba":
        from selfsr_edu.data.celeba import celeba_faces

        return celeba_faces(root, split, size, n, download)
    faces = folder_faces(hr_dir, size, resize=resize)
    if len(faces) <= n_test:
        raise ValueError(f"--hr-dir {hr_dir} has {len(faces)} images; need more than the {n_test} held out")
    return faces[len(faces) - n_test:] if split == "test" else faces[:len(faces) - n_test][:n]


def sr_data(cfg, split: str) -> dict:
    """``{"lr", "hr"}`` (uint8) of a stage-2 config's data: SynthFaces (:func:`sr_pairs`), or your own HR
    faces (``cfg.data`` ``"folder"``/``"celeba"``, :func:`hr_faces`) with LR = their PIL bicubic downscale
    (8-bit, the DIC protocol). Unpaired training with ``cfg.lr_dir``: the LR side is that folder's real LR
    faces instead (cycled to the number of HR faces; drawn independently of HR anyway)."""
    n = cfg.n_train if split == "train" else cfg.n_test
    if cfg.data == "synthfaces":
        return sr_pairs(cfg.mode, split, n, cfg.levels, cfg.lr_size, cfg.data_seed)
    hr = hr_faces(cfg.data, split, n, cfg.hr_size, cfg.hr_dir, cfg.root, cfg.n_test, resize=cfg.resize)
    lr = to_uint8(bicubic_pil(hr.float() / 255, cfg.lr_size))
    if split == "train" and cfg.mode == "unpaired" and cfg.lr_dir:
        real = folder_faces(cfg.lr_dir, cfg.lr_size, "--lr-dir", cfg.resize)
        lr = real[torch.arange(len(hr)) % len(real)]
    return {"lr": lr, "hr": hr}


def load_folder_lr(hr_dir, real_lr_dir: str, n_eval: int, hr_size: int = 64,
                   lr_size: int = 16, resize: bool = False) -> dict[str, torch.Tensor]:
    """Stage 1 on your own faces: clean LR = PIL bicubic of the HR faces (8-bit; ``hr_dir`` a folder, or
    a uint8 tensor of HR faces, e.g. from CelebA), real LR = the images of ``real_lr_dir`` at ``lr_size``.
    The last ``n_eval`` of each are held out. No ``eval_true``: real data has no known degradation."""
    hr = hr_dir if torch.is_tensor(hr_dir) else folder_faces(hr_dir, hr_size, resize=resize)
    real_t = folder_faces(real_lr_dir, lr_size, "--lr-dir", resize).float() / 255
    for name, n in (("HR faces", len(hr)), (f"--lr-dir {real_lr_dir}", len(real_t))):
        if n <= n_eval:
            raise ValueError(f"{name}: {n} images; need more than n_eval={n_eval}")
    clean = quantise8(bicubic_pil(hr.float() / 255, lr_size))
    return {"train_clean": clean[:-n_eval], "train_real": real_t[:-n_eval],
            "eval_clean": clean[-n_eval:], "eval_real": real_t[-n_eval:]}


__all__ = ["PairedSynthFaces", "WildSynthFaces", "sr_pairs", "sr_data", "hr_faces", "folder_faces", "load_wild_lr",
           "load_folder_lr", "quantise8"]
