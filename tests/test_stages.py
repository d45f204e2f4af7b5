"""What each stage adds to the loop: batches, targets, modes, G loading, stage-1 data and evaluation."""
import json

import pytest
import torch

from selfsr_edu.cli import main
from selfsr_edu.evaluate import evaluate_degradation, load_generator, load_sr
from selfsr_edu.models.sr import upsample2
from selfsr_edu.resize import bicubic_pil
from selfsr_edu.train import loop, stage1, stage2
from selfsr_edu.train.checkpoint import latest_checkpoint, load_weights, read_run_record
from selfsr_edu.train.distributed import DistContext

from test_train_loop import deg_cfg, sr_cfg


@pytest.fixture(scope="module")
def wild():
    """A small stand-in for SynthFaces-wild: smooth clean images; 'real' ones darker, tinted and noisy."""
    g = torch.Generator().manual_seed(0)

    def clean(n):
        return torch.nn.functional.interpolate(torch.rand(n, 3, 4, 4, generator=g), size=16, mode="bilinear")

    def degrade(x):
        return (0.8 * x + torch.tensor([0.1, 0.0, -0.05]).view(1, 3, 1, 1)
                + 0.05 * torch.randn(x.shape, generator=g)).clamp(0, 1)

    eval_clean = clean(16)
    return {"train_clean": clean(32), "train_real": degrade(clean(32)), "eval_clean": eval_clean,
            "eval_real": degrade(clean(16)), "eval_true": degrade(eval_clean)}


def test_fade_in_target_blends_like_R():
    hr, cfg = torch.rand(2, 3, 128, 128), stage2.schedule("quick")
    h64, h32 = bicubic_pil(hr, 64).clamp(0, 1), bicubic_pil(hr, 32).clamp(0, 1)
    assert torch.allclose(stage2.hr_at_stage(hr, 2, 0.25, cfg), 0.75 * upsample2(h32) + 0.25 * h64, atol=1e-6)
    assert torch.equal(stage2.hr_at_stage(hr, 3, 1.0, cfg), hr)


def test_batches_paired_vs_unpaired(tmp_path):
    cfg = sr_cfg(tmp_path / "a", n_train=6, flip=False)
    data = stage2.load_data(cfg)
    b = stage2.draw_batch(data, cfg, 5, DistContext())
    assert (bicubic_pil(b["hr"], 16).clamp(0, 1) - b["lr"]).abs().max() < 2.5 / 255   # LR = PIL bicubic of HR
    b2 = stage2.draw_batch(data, cfg, 5, DistContext())
    assert torch.equal(b["lr"], b2["lr"]) and torch.equal(b["hr"], b2["hr"])         # same (seed, t), same batch
    assert torch.equal(stage2.draw_batch(data, cfg, 5, DistContext(rank=1, world_size=2))["lr"], b["lr"][2:])
    un = sr_cfg(tmp_path / "b", n_train=6, flip=False, mode="unpaired")
    mismatched = sum(int((bicubic_pil(x["hr"], 16).clamp(0, 1) - x["lr"]).abs().amax(dim=(1, 2, 3)).gt(0.02).sum())
                     for x in (stage2.draw_batch(data, un, t, DistContext()) for t in range(4)))
    assert mismatched > 0                                                               # drawn independently


def test_unpaired_uses_cycle_loss_and_pseudo_feeds_G(tmp_path, monkeypatch):
    seen = {}

    def cycle(sr, lr):
        seen["cycle"] = (sr.shape[-1], lr.shape[-1])
        return (bicubic_pil(sr, lr.shape[-1]) - lr).abs().mean()

    monkeypatch.setattr(stage2, "cycle_reconstruction_loss", cycle)
    assert loop.fit(stage2, sr_cfg(tmp_path / "u", mode="unpaired", iterations=3, growth=(1, 2))).step == 3
    assert seen["cycle"] == (128, 16)

    class Darken(torch.nn.Module):          # a stand-in stage-1 G with a known effect
        def __init__(self):
            super().__init__()
            self.inputs, self.p = [], torch.nn.Parameter(torch.tensor(0.5))

        def forward(self, x):
            self.inputs.append(x.clone())
            return x * self.p

    G = Darken()
    monkeypatch.setattr("selfsr_edu.evaluate.load_generator", lambda path: G)
    cfg = sr_cfg(tmp_path / "p", mode="pseudo", degradation="unused", levels=2, growth=(1,), iterations=2, flip=False)
    loop.fit(stage2, cfg)
    data = stage2.load_data(cfg)
    idx = torch.randint(0, cfg.n_train, (cfg.batch,), generator=loop.step_generator(cfg.seed, 1))
    clean = data["train"]["lr"][idx]
    assert torch.equal(G.inputs[-1], clean.float() / 255)                        # G saw the clean LR of t = 1


def test_pseudo_pairs_from_a_real_stage1_checkpoint(tmp_path):
    loop.fit(stage1, deg_cfg(tmp_path / "deg", iterations=2, sample_every=2, ckpt_every=2, n_eval=4))
    out = loop.fit(stage2, sr_cfg(tmp_path / "sr", mode="pseudo", degradation=str(tmp_path / "deg"), levels=2,
                                  growth=(1,), iterations=2))
    assert out.step == 2 and out.metrics["n"] == 4
    G = load_generator(tmp_path / "deg")
    clean = out.data["train"]["lr"][:4].float() / 255
    fake = G(clean)
    assert fake.shape == (4, 3, 16, 16) and not torch.equal(fake, clean)
    assert load_sr(tmp_path / "sr")[0](fake).shape == (4, 3, 64, 64)
    with pytest.raises(ValueError, match="not a stage-1"):
        load_generator(tmp_path / "sr")


def test_load_generator_maps_clean_to_degraded(tmp_path, wild):
    for method in ("ff", "cyc"):
        result = loop.fit(stage1, deg_cfg(tmp_path / method, method=method, iterations=3), data=wild)
        G = load_generator(tmp_path / method)
        assert not G.training and G.method == method
        with torch.no_grad():
            out, expected = G(wild["eval_clean"]), result.models["G"](wild["eval_clean"])
        expected = (expected.lr if method == "ff" else expected).clamp(0, 1)
        assert out.min() >= 0 and out.max() <= 1 and torch.equal(out, expected)
        if method == "cyc":                                 # the stored "G" is clean → wild; F is kept too
            load_weights(result.models["F"], latest_checkpoint(tmp_path / method) / "F.safetensors")
        assert set(result.metrics) == {"generated", "clean_bicubic", "true_degradation_swd"}


def test_evaluation_of_the_clean_input_has_no_colour_drift(wild):
    clean = evaluate_degradation(None, wild)
    assert clean["colour_shift"] == 0.0 and clean["mean_delta_e"] == 0.0 and clean["swd"] > 0


def test_cli_snapshot_and_folders(tmp_path, capsys):
    from selfsr_edu.data.io import save_image

    args = ["train-degradation", "--schedule", "quick", "--out", str(tmp_path / "a"), "--iterations", "2",
            "--batch", "2", "--n-train", "4", "--n-eval", "4", "--device", "cpu", "--no-progress",
            "--data-file", str(tmp_path / "data.pt")]
    assert main(args) == 0 and "s/iteration" in capsys.readouterr().out
    assert (tmp_path / "a" / "metrics.json").exists() and (tmp_path / "data.pt").exists()
    assert main(args[:4] + [str(tmp_path / "b")] + args[5:]) == 0               # reads the snapshot
    assert main(args[:4] + [str(tmp_path / "c")] + args[5:10] + ["5"] + args[11:]) == 2
    assert "does not fit" in capsys.readouterr().err and not (tmp_path / "c").exists()
    g = torch.Generator().manual_seed(3)
    for i in range(5):
        save_image(torch.rand(3, 40, 48, generator=g), tmp_path / "hr" / f"{i}.png")
        save_image(torch.rand(3, 16, 16, generator=g), tmp_path / "real" / f"{i}.png")
    out = tmp_path / "folders"
    folder_args = ["train-degradation", "--data", "folder", "--hr-dir", str(tmp_path / "hr"), "--real-lr-dir",
                   str(tmp_path / "real"), "--out", str(out), "--iterations", "2", "--batch", "2", "--n-eval", "2",
                   "--no-progress", "--resize"]
    assert main(folder_args) == 0
    assert read_run_record(out)["config"]["hr_dir"] == str(tmp_path / "hr")
    assert "truth_l1" not in json.loads((out / "metrics.json").read_text())["generated"]
    assert main(folder_args[:-4] + ["--n-eval", "5", "--resize", "--overwrite"]) == 2
    assert "need more than n_eval" in capsys.readouterr().err and (out / "metrics.json").exists()


def test_l_rec_only_warm_up_leaves_D_alone_until_adv_start(tmp_path):
    from selfsr_edu.train.distributed import DistContext as Ctx
    cfg = sr_cfg(tmp_path / "w", iterations=3, adv_start=2, ckpt_every=1, keep=5)
    out = loop.fit(stage2, cfg)
    assert ["D" in row for row in out.history] == [False, False, True]
    assert all(row["adv_R"] == 0.0 for row in out.history[:2]) and out.history[2]["adv_R"] != 0.0
    D0 = stage2.init(cfg, None, Ctx()).modules["D"].state_dict()
    step2 = torch.load(latest_checkpoint(tmp_path / "w").parent / "step_0000002" / "state.pt", weights_only=True)
    from safetensors.torch import load_file
    D2 = load_file(str(latest_checkpoint(tmp_path / "w").parent / "step_0000002" / "D.safetensors"))
    assert all(torch.equal(D0[k], D2[k]) for k in D0) and step2["step"] == 2


@pytest.mark.parametrize("method", ["ff", "cyc_idt"])
def test_stage1_g_step_leaves_the_critics_gradients_alone(wild, method):
    """After one iteration, each critic's .grad is exactly its own D-step gradient (Eq. 2), recomputed here
    by hand from a copy taken before the step: the G step (Eq. 5 / CycleGAN) adds nothing to it."""
    import copy

    from selfsr_edu.losses import lr_adversarial_d_loss

    cfg = deg_cfg(None, method=method)
    state = stage1.init(cfg, wild, DistContext())
    batch = stage1.draw_batch(wild, cfg, 0, state.ctx)
    before = copy.deepcopy(state.modules)
    stage1.step(state, batch, 0)
    m = before
    fake = (m["G"](batch["clean"]).lr if method == "ff" else m["G"](batch["clean"])).detach()
    loss = lr_adversarial_d_loss(m["D"](batch["real"]), m["D"](fake))
    if method != "ff":
        loss = loss + lr_adversarial_d_loss(m["D_clean"](batch["clean"]), m["D_clean"](m["F"](batch["real"]).detach()))
    loss.backward()
    for name in [k for k in m if k.startswith("D")]:
        for (k, p_ref), p in zip(m[name].named_parameters(), state.modules[name].parameters()):
            assert p.requires_grad, f"{name}.{k} left frozen"
            torch.testing.assert_close(p.grad, p_ref.grad, rtol=1e-5, atol=1e-7, msg=f"{name}.{k}")
