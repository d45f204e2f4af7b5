"""Stage-2 trainer: schedule, batches, bit-identical resume, NaN guard, run folders, modes."""
import pytest
import torch
from safetensors.torch import load_file

from selfsr_edu.data.resize import bicubic_pil
from selfsr_edu.models.sr import upsample2
from selfsr_edu.train import checkpoint
from selfsr_edu.train import sr as trainer
from selfsr_edu.train.distributed import DistContext


def tiny(out, **kw):
    base = dict(out=str(out), iterations=6, growth=(2, 4), fade_in=2, batch=4, n_train=8, n_test=4,
                r1_every=2, sample_every=3, ckpt_every=3, log_every=1, progress=False)
    base.update(kw)
    return trainer.config_from_preset("quick", **base)


def test_schedule_by_hand():
    cfg = trainer.config_from_preset("paired")
    assert trainer.stage_at(0, cfg) == (1, 1.0)
    assert trainer.stage_at(19_999, cfg) == (1, 1.0)
    assert trainer.stage_at(20_000, cfg) == (2, 1 / 5000)
    assert trainer.stage_at(22_499, cfg) == (2, 0.5)
    assert trainer.stage_at(79_999, cfg) == (2, 1.0)
    assert trainer.stage_at(80_000 + 4_999, cfg) == (3, 1.0)
    flat = trainer.config_from_preset("paired", progressive=False)
    assert trainer.stage_at(0, flat) == (3, 1.0)
    assert trainer.config_from_preset("unpaired").growth == (40_000, 120_000)
    rw = trainer.config_from_preset("realworld", degradation="x")
    assert (rw.levels, rw.growth, rw.iterations, rw.hr_size) == (2, (60_000,), 160_000, 64)
    with pytest.raises(ValueError, match="growth"):
        trainer.config_from_preset("paired", growth=(10,))
    with pytest.raises(ValueError, match="degradation"):
        trainer.config_from_preset("realworld")


def test_fade_in_target_blends_like_R():
    hr = torch.rand(2, 3, 128, 128)
    t = trainer.hr_at_stage(hr, 2, 0.25, 16, 3)
    h64, h32 = bicubic_pil(hr, 64).clamp(0, 1), bicubic_pil(hr, 32).clamp(0, 1)
    assert torch.allclose(t, 0.75 * upsample2(h32) + 0.25 * h64, atol=1e-6)
    assert torch.equal(trainer.hr_at_stage(hr, 3, 1.0, 16, 3), hr)


def test_batches_paired_vs_unpaired(tmp_path):
    cfg = tiny(tmp_path / "a", n_train=6, flip=False)
    pool = trainer._Pool(cfg, "train", 6)
    lr, hr = trainer.draw_batch(pool, cfg, 5, DistContext())
    # paired: the LR is the DIC protocol's PIL bicubic of its own HR (8-bit quantised)
    assert (bicubic_pil(hr, 16).clamp(0, 1) - lr).abs().max() < 2.5 / 255
    lr2, hr2 = trainer.draw_batch(pool, cfg, 5, DistContext())
    assert torch.equal(lr, lr2) and torch.equal(hr, hr2)          # same (seed, step), same batch
    # two processes: each takes its half of the same global batch
    half = trainer.draw_batch(pool, cfg, 5, DistContext(rank=1, world_size=2))[0]
    assert torch.equal(half, lr[2:])
    un = tiny(tmp_path / "b", n_train=6, flip=False, mode="unpaired")
    mism = 0
    for step in range(4):
        lr, hr = trainer.draw_batch(pool, un, step, DistContext())
        mism += int((bicubic_pil(hr, 16).clamp(0, 1) - lr).abs().amax(dim=(1, 2, 3)).gt(0.02).sum())
    assert mism > 0                                                 # LR and HR drawn independently


def _weights(run, name):
    return load_file(str(checkpoint.latest_checkpoint(run) / f"{name}.safetensors"))


def test_bit_identical_resume_on_cpu(tmp_path):
    straight = trainer.train_sr(tiny(tmp_path / "straight"))
    assert straight["step"] == 6 and straight["metrics"]["n"] == 4
    trainer.train_sr(tiny(tmp_path / "split"), stop_after=3)
    assert checkpoint.latest_checkpoint(tmp_path / "split").name == "step_0000003"
    resumed = trainer.train_sr(tiny(tmp_path / "split"), resume=True)
    assert resumed["step"] == 6
    for name in ("R", "D", "R_ema"):
        a, b = _weights(tmp_path / "straight", name), _weights(tmp_path / "split", name)
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    assert straight["history"]["loss_R"] == resumed["history"]["loss_R"]
    assert (tmp_path / "straight" / "samples" / "step_0000003.png").exists()
    # the loaded model reproduces the trained EMA weights
    R, cfg = trainer.load_sr(tmp_path / "split")
    assert cfg.preset == "tiny"
    assert torch.equal(R.stem.weight, _weights(tmp_path / "split", "R_ema")["stem.weight"])


def test_run_folder_refusal(tmp_path):
    trainer.train_sr(tiny(tmp_path / "r", iterations=1))
    with pytest.raises(FileExistsError, match="already exists"):
        trainer.train_sr(tiny(tmp_path / "r", iterations=1))
    trainer.train_sr(tiny(tmp_path / "r", iterations=1), overwrite=True)


def test_nan_guard_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    real = trainer.reconstruction_loss
    calls = {"n": 0}

    def poisoned(sr, hr):
        calls["n"] += 1
        value = real(sr, hr)
        return value * float("nan") if calls["n"] == 5 else value

    monkeypatch.setattr(trainer, "reconstruction_loss", poisoned)
    with pytest.raises(checkpoint.NonFiniteLossError, match="step 5") as err:
        trainer.train_sr(tiny(tmp_path / "nan", ckpt_every=2))
    assert "step_0000004" in str(err.value)
    assert checkpoint.latest_checkpoint(tmp_path / "nan").name == "step_0000004"


def test_unpaired_uses_cycle_loss_and_pseudo_feeds_G(tmp_path, monkeypatch):
    seen = {}

    def cycle(sr, lr):
        seen["cycle"] = (sr.shape[-1], lr.shape[-1])
        return (bicubic_pil(sr, lr.shape[-1]) - lr).abs().mean()

    monkeypatch.setattr(trainer, "cycle_reconstruction_loss", cycle)
    out = trainer.train_sr(tiny(tmp_path / "u", mode="unpaired", iterations=3, growth=(1, 2)))
    assert seen["cycle"] == (128, 16) and out["step"] == 3

    class Darken(torch.nn.Module):          # a stand-in stage-1 G with a known effect
        def __init__(self):
            super().__init__()
            self.inputs = []
            self.p = torch.nn.Parameter(torch.tensor(0.5))

        def forward(self, x):
            self.inputs.append(x.clone())
            return x * self.p

    G = Darken()
    monkeypatch.setattr(trainer, "_load_degradation", lambda path, dev: G)
    cfg = tiny(tmp_path / "p", mode="pseudo", degradation="unused", levels=2, growth=(1,), iterations=2,
               flip=False)
    trainer.train_sr(cfg)
    pool = trainer._Pool(cfg, "train", cfg.n_train)
    lr_clean, _ = trainer.draw_batch(pool, cfg, 1, DistContext())
    assert torch.equal(G.inputs[-1], lr_clean)                        # G saw the clean LR of step 1
    assert cfg.hr_size == 64


def test_pseudo_pairs_from_a_real_stage1_checkpoint(tmp_path):
    from selfsr_edu.train.degradation import config_from_preset as deg_preset, load_generator, train_degradation

    deg = deg_preset("quick", out=str(tmp_path / "deg"), steps=2, batch=4, n_train=8, n_eval=4, progress=False,
                     sample_every=2, checkpoint_every=2)
    train_degradation(deg)
    cfg = tiny(tmp_path / "sr", mode="pseudo", degradation=str(tmp_path / "deg"), levels=2, growth=(1,),
               iterations=2, n_test=4)
    out = trainer.train_sr(cfg)
    assert out["step"] == 2 and out["metrics"]["n"] == 4
    G = load_generator(tmp_path / "deg")
    pool = trainer._Pool(cfg, "train", cfg.n_train)
    lr_clean, hr = trainer.draw_batch(pool, cfg, 0, DistContext())
    fake = trainer.degrade(G, lr_clean)
    assert fake.shape == lr_clean.shape == (4, 3, 16, 16) and hr.shape[-1] == 64
    assert not torch.equal(fake, lr_clean)                            # G changed the clean LR
    assert trainer.load_sr(tmp_path / "sr")[0](fake).shape == hr.shape
