"""Reference checkpoints shipped with the package: ``selfsr_edu.pretrained(name)``.

Every file in ``selfsr_edu/weights/`` is listed in ``weights/registry.json`` with its
sha256, the config it was trained with, the exact command, iterations, hardware, wall
time and its held-out scores. :func:`load` checks the hash before it builds the model,
so a damaged or tampered file is refused, never silently used. Weights are safetensors:
loading them executes no code.

Names: ``"small-scb"`` and ``"small-concat"`` (R, ×8, trained on SynthFaces, paired DIC
protocol, the ``course`` schedule); ``"long-scb"`` and ``"long-concat"`` (the same, trained 1.5× as
long with the ``long`` schedule); ``"ff-idt"`` (the stage-1 flow-field G, FF + Idt) and ``"cyc"`` (the CycleGAN
baseline of Table III) on SynthFaces-wild; ``"wild-vanilla"`` and ``"wild-ff-idt"`` (R, ×4, the
real-world setting: trained on clean bicubic pairs, or on the pseudo pairs of an FF + Idt G;
Table III's Vanilla and FF + Idt rows, notebook 05). An R trained in the wild setting is scored
on the truly degraded held-out faces (its ``mode`` is ``pseudo``), where beating bicubic is a
result, not a given. ``benchmarks/register_reference.py`` adds a
trained run to the registry.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from selfsr_edu.data.io import sha256

WEIGHTS = Path(__file__).parent / "weights"
REGISTRY_FILE = WEIGHTS / "registry.json"


def registry() -> dict:
    """``{name: entry}`` of the shipped reference checkpoints."""
    if not REGISTRY_FILE.exists():
        return {}
    return json.loads(REGISTRY_FILE.read_text())


def entry(name: str) -> dict:
    """The registry entry of ``name``, its file checked against the recorded sha256."""
    reg = registry()
    if name not in reg:
        raise ValueError(f"no reference checkpoint named {name!r}; shipped: {', '.join(sorted(reg)) or 'none'}")
    e = reg[name]
    path = WEIGHTS / e["file"]
    if not path.is_file():
        raise FileNotFoundError(f"reference checkpoint {path} is missing from the installed package; reinstall "
                                "selfsr_edu (pip install -e .)")
    digest = sha256(path)
    if digest != e["sha256"]:
        raise ValueError(f"reference checkpoint {path} has sha256 {digest[:16]}…, but the registry expects "
                         f"{e['sha256'][:16]}…: the file was modified or damaged; reinstall selfsr_edu")
    return {**e, "path": path}


def load(name: str, device: str | torch.device = "cpu"):
    """The reference model ``name`` in eval mode: R (``R(lr)`` gives the full ×8 output) or, for a
    stage-1 entry, the clean → degraded LR mapping (:class:`~selfsr_edu.evaluate.DegradationGenerator`)."""
    from selfsr_edu.evaluate import DegradationGenerator, degradation_network, sr_network
    from selfsr_edu.train.checkpoint import load_weights

    e = entry(name)
    cfg = e["config"]
    if e["kind"] == "sr":
        from selfsr_edu.train.stage2 import Config

        model = sr_network(Config.from_dict(cfg))
    else:
        model = degradation_network(cfg["method"], cfg["model"])
    load_weights(model, e["path"])
    if e["kind"] != "sr":
        model = DegradationGenerator(model, cfg["method"])
    return model.to(device).eval().requires_grad_(False)


def sr_config(name: str):
    """The stage-2 config a reference R was trained with (for held-out data and the protocol)."""
    from selfsr_edu.train.stage2 import Config

    e = entry(name)
    if e["kind"] != "sr":
        raise ValueError(f"{name!r} is a stage-1 degradation model, not an SR network")
    return Config.from_dict(e["config"])


def score(name: str, n: int = 100) -> dict:
    """Re-score a reference model on its held-out faces, as recorded in the registry's ``scores``:
    R: PSNR/SSIM of R and bicubic on ``n`` held-out SynthFaces (DIC protocol); G: the stage-1
    metrics (SWD to the real wild LR, colour drift, distance to the truth) on its held-out items."""
    from selfsr_edu.evaluate import crop_border, evaluate_degradation, fidelity, held_out_pairs

    e, model = entry(name), load(name)
    if e["kind"] == "sr":
        cfg = sr_config(name)
        lr, hr = held_out_pairs(cfg, n)
        return fidelity(model, lr, hr, crop_border=crop_border(cfg.scale))
    from selfsr_edu.data.settings import WildSynthFaces

    cfg = e["config"]
    ds = WildSynthFaces(cfg["n_train"] + cfg["n_eval"], "train", cfg["hr_size"], cfg["lr_size"], cfg["data_seed"])
    items = [ds[i] for i in range(cfg["n_train"], cfg["n_train"] + cfg["n_eval"])]
    data = {f"eval_{k}": torch.stack([it[f"lr_{k}"] for it in items]) for k in ("clean", "real", "true")}
    return evaluate_degradation(model, data)


def upscale_faces(lr: torch.Tensor, name: str = "small-scb", batch: int = 32) -> torch.Tensor:
    """Super-resolve LR faces (N×3×16×16 in [0, 1], or one 3×16×16) ×8 with a reference R."""
    from selfsr_edu.evaluate import super_resolve

    single = torch.is_tensor(lr) and lr.dim() == 3
    lr = lr[None] if single else lr
    if not torch.is_tensor(lr) or lr.dim() != 4 or lr.shape[1] != 3:
        raise ValueError(f"upscale_faces: lr must be an N×3×H×W (or 3×H×W) tensor in [0, 1], got "
                         f"{tuple(lr.shape) if torch.is_tensor(lr) else type(lr).__name__}")
    out = super_resolve(load(name), lr.float(), batch)
    return out[0] if single else out


__all__ = ["load", "entry", "registry", "sr_config", "score", "upscale_faces", "WEIGHTS"]
