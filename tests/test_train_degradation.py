"""Stage-1 trainer: schedule, bit-identical resume, NaN guard, run folders, CLI, load_generator."""
import pytest
import torch

from selfsr_edu.cli import main
from selfsr_edu.train.checkpoint import NonFiniteLossError, latest_checkpoint, load_weights, read_run_config
from selfsr_edu.train.degradation import (config_from_preset, evaluate_degradation, learning_rate, load_generator,
                                          train_degradation)


@pytest.fixture(scope="module")
def data():
    """Small stand-in for SynthFaces-wild: smooth clean images; 'real' ones darker, tinted and noisy."""
    g = torch.Generator().manual_seed(0)

    def clean(n):
        x = torch.rand(n, 3, 4, 4, generator=g)
        return torch.nn.functional.interpolate(x, size=16, mode="bilinear", align_corners=False)

    def wild(x):
        return (0.8 * x + torch.tensor([0.1, 0.0, -0.05]).view(1, 3, 1, 1)
                + 0.05 * torch.randn(x.shape, generator=g)).clamp(0, 1)

    train_clean, eval_clean = clean(32), clean(16)
    return {"train_clean": train_clean, "train_real": wild(clean(32)), "eval_clean": eval_clean,
            "eval_real": wild(clean(16)), "eval_true": wild(eval_clean)}


def _cfg(tmp_path, name, **kw):
    base = dict(out=str(tmp_path / name), steps=6, batch=4, sample_every=3, checkpoint_every=3, progress=False,
                device="cpu")
    return config_from_preset("quick", **{**base, **kw})


def test_paper_preset_and_learning_rate_schedule():
    cfg = config_from_preset("paper", out=None)
    assert (cfg.steps, cfg.batch, cfg.lr, cfg.betas, cfg.lambda_idt, cfg.lambda_s) == (
        180_000, 48, 2e-4, (0.9, 0.99), 10.0, 1.0)
    assert learning_rate(0, cfg) == learning_rate(89_999, cfg) == 2e-4
    assert learning_rate(90_000, cfg) == pytest.approx(2e-4)
    assert learning_rate(135_000, cfg) == pytest.approx(1e-4)
    assert learning_rate(180_000, cfg) == 0.0
    with pytest.raises(ValueError, match="model"):
        config_from_preset("quick", model="gan")


@pytest.mark.parametrize("model", ["ff", "cyc_idt"])
def test_interrupt_and_resume_is_bit_identical(tmp_path, data, model):
    full = train_degradation(_cfg(tmp_path, "full", model=model), data=data)
    train_degradation(_cfg(tmp_path, "split", model=model, stop_at=3), data=data)
    assert latest_checkpoint(tmp_path / "split").name == "step_0000003"
    resumed = train_degradation(_cfg(tmp_path, "split", model=model), resume=True, data=data)
    assert resumed.history["step"] == full.history["step"] == list(range(1, 7))
    assert resumed.history["G"] == full.history["G"]
    for name, module in full.models.items():
        for (k, a), b in zip(module.state_dict().items(), resumed.models[name].state_dict().values()):
            assert torch.equal(a, b), f"{name}.{k} differs after resume"
    # the saved G of the resumed run is the final G
    saved = load_generator(tmp_path / "split")
    with torch.no_grad():
        torch.testing.assert_close(saved(data["eval_clean"]), full.generator(data["eval_clean"]), rtol=0, atol=0)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, data):
    cfg = _cfg(tmp_path, "nan", steps=10, checkpoint_every=2, nan_at_step=4)
    with pytest.raises(NonFiniteLossError, match=r"step 4.*step_0000004"):
        train_degradation(cfg, data=data)
    ckpt = latest_checkpoint(tmp_path / "nan")
    assert ckpt.name == "step_0000004"
    G = load_generator(ckpt)
    assert all(torch.isfinite(p).all() for p in G.parameters())


def test_run_folder_is_not_overwritten_by_accident(tmp_path, data):
    cfg = _cfg(tmp_path, "run", steps=2)
    train_degradation(cfg, data=data)
    with pytest.raises(FileExistsError, match="--resume"):
        train_degradation(cfg, data=data)
    train_degradation(cfg, overwrite=True, data=data)
    stored = read_run_config(tmp_path / "run")
    assert stored["model"] == "ff" and stored["g_preset"] == "tiny"
    assert (latest_checkpoint(tmp_path / "run") / "G.safetensors").exists()
    assert sorted(p.name for p in (tmp_path / "run" / "samples").iterdir()) == ["step_0000002.png"]


def test_load_generator_maps_clean_to_degraded_in_eval_mode(tmp_path, data):
    for model in ("ff", "cyc"):
        result = train_degradation(_cfg(tmp_path, model, model=model, steps=3), data=data)
        G = load_generator(tmp_path / model)
        assert not G.training and G.kind == model
        with torch.no_grad():
            out = G(data["eval_clean"])
        assert out.shape == data["eval_clean"].shape and out.min() >= 0 and out.max() <= 1
        expected = result.models["G"](data["eval_clean"])
        expected = (expected.lr if model == "ff" else expected).clamp(0, 1)
        torch.testing.assert_close(out, expected.detach(), rtol=0, atol=0)
        # for CycleGAN the stored "G" is the clean → wild direction
        if model == "cyc":
            ckpt = latest_checkpoint(tmp_path / model)
            assert {"G", "F", "D", "D_clean"} <= {p.stem for p in ckpt.glob("*.safetensors")}
            load_weights(result.models["F"], ckpt / "F.safetensors")   # the inverse direction is kept too


def test_evaluation_of_the_clean_input_has_no_colour_drift(data):
    clean = evaluate_degradation(None, data)
    assert clean["colour_shift"] == 0.0 and clean["mean_delta_e"] == 0.0
    assert clean["swd"] > 0 and clean["truth_l1"] > 0


def test_cli_trains_refuses_and_resumes(tmp_path, capsys):
    out = str(tmp_path / "cli")
    snapshot = str(tmp_path / "data.pt")
    args = ["train-degradation", "--data", "synthfaces-wild", "--preset", "quick", "--out", out,
            "--steps", "2", "--batch", "2", "--n-train", "4", "--n-eval", "4", "--device", "cpu",
            "--data-file", snapshot]
    assert main(args) == 0
    assert "s/iteration" in capsys.readouterr().out
    assert (tmp_path / "cli" / "eval.json").exists() and (tmp_path / "data.pt").exists()
    assert main(args) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(args[:8] + ["4"] + args[9:] + ["--resume", "--no-eval"]) == 0   # reads the snapshot
    assert latest_checkpoint(tmp_path / "cli").name == "step_0000004"
    wrong = list(args)
    wrong[6], wrong[wrong.index("--n-train") + 1] = str(tmp_path / "other"), "5"
    assert main(wrong) == 2
    assert "does not fit" in capsys.readouterr().err


def test_cli_trains_on_your_own_folders(tmp_path, capsys):
    from selfsr_edu.data.io import save_image

    g = torch.Generator().manual_seed(3)
    for i in range(5):
        save_image(torch.rand(3, 40, 48, generator=g), tmp_path / "hr" / f"{i}.png")       # non-square: cropped
        save_image(torch.rand(3, 16, 16, generator=g), tmp_path / "real" / f"{i}.png")
    out = tmp_path / "folders_run"
    args = ["train-degradation", "--data", "folders", "--hr-dir", str(tmp_path / "hr"), "--real-lr-dir",
            str(tmp_path / "real"), "--preset", "quick", "--out", str(out), "--steps", "2", "--batch", "2",
            "--n-eval", "2", "--device", "cpu"]
    assert main(args) == 0
    assert read_run_config(out)["hr_dir"] == str(tmp_path / "hr")
    import json
    report = json.loads((out / "eval.json").read_text())
    assert "truth_l1" not in report["generated"] and report["generated"]["swd"] > 0
    with torch.no_grad():
        assert load_generator(out)(torch.rand(1, 3, 16, 16)).shape == (1, 3, 16, 16)
    assert main(args[:-4] + ["--n-eval", "5", "--device", "cpu", "--overwrite"]) == 2
    assert "need more than n_eval" in capsys.readouterr().err
    assert (out / "eval.json").exists()          # the failed call did not wipe the existing run
