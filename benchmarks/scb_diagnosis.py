"""Why does the SCB trail concat early? Statistics at initialisation and after N iterations at ×2.

For each block (scb, concat): R (small) trained with L_rec alone at ×2 (stage 1 only; the course
schedule's lr) for each N in --steps, then, on 100 held-out faces at ×2:

* PSNR of R (raw weights) and of bicubic against the ×2 HR;
* the squared error split into the LR's own band (both images bicubic-downscaled to 16×16) and
  the rest: where does R's error live?
* the correlation of R's output with its bicubic condition;
* γ's mean and std per block (SCB), and the gradient norm of each block and of the to-RGB layer
  for one L_rec batch.

    OMP_NUM_THREADS=1 python benchmarks/scb_diagnosis.py --steps 0,100,300 --out runs/diagnosis

Writes JSON lines to ``OUT/diagnosis.jsonl`` and prints them.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from selfsr_edu.evaluate import held_out_pairs
from selfsr_edu.losses import reconstruction_loss
from selfsr_edu.metrics import psnr
from selfsr_edu.models.sr import SelfConditionedSR
from selfsr_edu.nn.scb import level_condition_features
from selfsr_edu.resize import bicubic_pil
from selfsr_edu.train import loop, stage2
from selfsr_edu.train.checkpoint import latest_checkpoint, load_weights


def statistics(R, lr_t, hr2, block: str) -> dict:
    with torch.no_grad():
        sr = R.eval()(lr_t, 1).clamp(0, 1)
        bic = bicubic_pil(lr_t, 32).clamp(0, 1)
        low = lambda x: bicubic_pil(x, 16)   # noqa: E731 - the LR's band
        out = {"psnr_R": psnr(sr, hr2, crop_border=2).mean().item(),
               "psnr_bicubic": psnr(bic, hr2, crop_border=2).mean().item(),
               "mse_low_band": (low(sr) - low(hr2)).pow(2).mean().item(),
               "mse_high_band": ((sr - bicubic_pil(low(sr), 32)) - (hr2 - bicubic_pil(low(hr2), 32))).pow(2).mean().item(),
               "corr_with_condition": torch.corrcoef(torch.stack([sr.flatten(), bic.flatten()]))[0, 1].item()}
        if block == "scb":
            gammas = level_condition_features(R.level[0].blocks, bicubic_pil(lr_t[:8], 32))
            out["gamma_mean"] = [round(g.mean().item(), 4) for g in gammas]
            out["gamma_std"] = [round(g.std().item(), 4) for g in gammas]
    return out


def gradient_norms(R, lr_b, hr2_b) -> dict:
    R.train().zero_grad()
    (150 * reconstruction_loss(R(lr_b, 1), hr2_b)).backward()
    level = R.level[0]
    norms = {"stem": R.stem.weight.grad.norm().item(), "to_rgb": level.to_rgb.weight.grad.norm().item()}
    for i, block in enumerate(level.blocks):
        norms[f"block{i}"] = torch.stack([p.grad.norm() for p in block.parameters() if p.grad is not None]).norm().item()
    return {k: round(v, 4) for k, v in norms.items()}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", default="0,100,300", help="iterations at which to measure")
    p.add_argument("--lr", type=float, default=stage2.SCHEDULES["course"]["lr"])
    p.add_argument("--out", default="runs/diagnosis")
    args = p.parse_args()
    out = Path(args.out)
    torch.set_num_threads(1)
    for block in ("scb", "concat"):
        cfg = stage2.schedule("course", out=str(out / block), block=block, lr=args.lr, growth=(10**6, 2 * 10**6),
                              iterations=10**6, adv_start=10**6, n_test=0, sample_every=0, ckpt_every=10**6,
                              progress=False, threads=1)
        lr_t, hr_t = held_out_pairs(cfg, 100)
        hr2 = bicubic_pil(hr_t, 32).clamp(0, 1)
        data = stage2.load_data(cfg)
        lr_b, hr2_b = lr_t[:8], hr2[:8]
        done = 0
        for n in sorted(int(s) for s in args.steps.split(",")):
            R = SelfConditionedSR.from_preset(cfg.model, block=block)
            if n == 0:
                torch.manual_seed(cfg.seed)
                R = stage2.init(cfg, data, loop.distributed.DistContext()).modules["R"]
            else:
                loop.fit(stage2, cfg, resume=done > 0, overwrite=done == 0, stop_after=n, data=data)
                load_weights(R, latest_checkpoint(out / block) / "R.safetensors")
                done = n
            row = {"block": block, "lr": args.lr, "iteration": n, **statistics(R, lr_t, hr2, block),
                   "grad_norm": gradient_norms(R, lr_b, hr2_b)}
            print(json.dumps(row), flush=True)
            out.mkdir(parents=True, exist_ok=True)
            with (out / "diagnosis.jsonl").open("a") as f:
                f.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
