"""Ablation grids: aggregation by hand; a grid killed halfway skips what finished and resumes the rest."""
import json
import math
import os

import pytest

from selfsr_edu import experiments
from selfsr_edu.train.checkpoint import read_run_record


def test_table_aggregates_seeds_and_paired_differences_by_hand():
    rows = experiments.EXPERIMENTS["table4"]
    full, vanilla = rows[-1].name, rows[0].name
    results = [{"row": full, "seed": s, "PSNR": p, "SSIM": 0.7} for s, p in enumerate((24.0, 25.0, 26.0))]
    results += [{"row": vanilla, "seed": s, "PSNR": p, "SSIM": 0.6} for s, p in enumerate((23.0, 23.5, 25.5))]
    tab = experiments.table("table4", results)
    v = next(r for r in tab["rows"] if r["row"] == vanilla)
    assert v["PSNR"][0] == pytest.approx(24.0) and v["PSNR"][1] == pytest.approx(math.sqrt(1.75))
    diffs = [-1.0, -1.5, -0.5]                                     # paired by seed
    sd = math.sqrt(sum((d + 1.0) ** 2 for d in diffs) / 2)
    assert v["Δ PSNR"] == pytest.approx((-1.0, -1.0 - 4.303 * sd / math.sqrt(3), -1.0 + 4.303 * sd / math.sqrt(3)))
    assert v["paper"]["PSNR"] == 25.57 and [r["row"] for r in tab["rows"]] == [vanilla, full]
    md = experiments.markdown(tab)
    assert "24 ± 1.3" in md and "paper PSNR" in md and "95 % t interval" in md


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="experiment"):
        experiments.run_grid("table9")
    with pytest.raises(ValueError, match="rows"):
        experiments.run_grid("table4", rows=["nope"], progress=False)


def test_grid_killed_halfway_skips_finished_runs_and_resumes_the_interrupted_one(tmp_path, monkeypatch, capsys):
    from selfsr_edu.cli import main
    from selfsr_edu.train import stage2

    real_step = stage2.step

    def ctrl_c_in_second_run(state, batch, t):            # Ctrl-C at iteration 45 of the full model's row
        if state.config.progressive and t == 44:
            raise KeyboardInterrupt
        return real_step(state, batch, t)

    args = ["ablate", "table4", "--budget", "quick", "--seeds", "1", "--rows", "scb-prog-r1,scb-r1", "--out",
            str(tmp_path), "--no-progress"]
    monkeypatch.setattr(stage2, "step", ctrl_c_in_second_run)
    assert main(args) == 130
    assert "abandoned" in capsys.readouterr().err
    first = tmp_path / "table4" / "scb-r1" / "seed0" / "result.json"          # rows run in table order
    second = tmp_path / "table4" / "scb-prog-r1" / "seed0"
    finished = first.stat().st_mtime_ns
    assert not (second / "result.json").exists()
    monkeypatch.setattr(stage2, "step", real_step)
    assert main(args) == 0
    out = capsys.readouterr().out
    assert first.stat().st_mtime_ns == finished                  # the finished seed was not rerun
    assert read_run_record(second / "sr")["changes"] == [{"at_iteration": 30}]   # resumed from its checkpoint
    assert "| SCB + R1 | 1 |" in out and "paper PSNR" in out
    tab = json.loads((tmp_path / "table4" / "table.json").read_text())
    assert [r["row"] for r in tab["rows"]] == ["SCB + R1", "SCB + Prog. + R1"]
    assert (tmp_path / "table4" / "table.png").exists()
    record = json.loads(first.read_text())                       # each seed says where it ran and how to redo it
    assert record["hardware"].startswith(f"{os.cpu_count()}-core ") or "(CUDA)" in record["hardware"]
    assert record["command"] == f"python -m selfsr_edu ablate table4 --budget quick --seeds 1 --rows scb-r1 --out {tmp_path}"
    seconds = [json.loads(f.read_text())["seconds"] for f in (tmp_path / "table4").glob("*/seed0/result.json")]
    assert tab["provenance"]["runs"] == 2 and tab["provenance"]["seconds"] == pytest.approx(sum(seconds), abs=0.11)
    assert tab["provenance"]["hardware"] == [record["hardware"]] and "2 runs" in out
    # a grid in pieces: the table has every finished row, not only the ones this call ran
    other = tmp_path / "table4" / "vanilla-prog-r1" / "seed0"
    other.mkdir(parents=True)
    result = json.loads(first.read_text())
    (other / "result.json").write_text(json.dumps({**result, "row": "Vanilla + Prog. + R1"}))
    assert main(["ablate", "table4", "--budget", "quick", "--seeds", "1", "--rows", "scb-r1", "--out", str(tmp_path),
                 "--no-progress"]) == 0
    tab = json.loads((tmp_path / "table4" / "table.json").read_text())
    assert [r["row"] for r in tab["rows"]] == ["Vanilla + Prog. + R1", "SCB + R1", "SCB + Prog. + R1"]
    # --table-only trains nothing (seed 1 is missing everywhere and stays missing) and refuses an empty folder
    assert main(["ablate", "table4", "--budget", "quick", "--seeds", "2", "--out", str(tmp_path), "--table-only"]) == 0
    assert not list((tmp_path / "table4").glob("*/seed1")) and "| SCB + R1 | 1 |" in capsys.readouterr().out
    assert main(["ablate", "table4", "--budget", "course", "--out", str(tmp_path), "--table-only"]) == 2
    assert "no finished table4 seed at budget course" in capsys.readouterr().err


@pytest.mark.parametrize("experiment", sorted(experiments.EXPERIMENTS))
def test_short_budget_is_the_course_schedule_at_half_length(experiment, tmp_path):
    from selfsr_edu.train import stage1

    for row in experiments.EXPERIMENTS[experiment]:
        course = experiments._sr_config(row, "course", 0, tmp_path / "c", False)
        short = experiments._sr_config(row, "short", 0, tmp_path / "s", False)
        assert short.iterations * 2 == course.iterations and short.adv_start * 2 == course.adv_start
        assert [g * 2 for g in short.growth] == list(course.growth)
        assert short.fade_in * 2 == course.fade_in and short.levels == course.levels and short.mode == course.mode
        assert (short.model, short.block, short.progressive, short.r1, short.lr, short.batch) == \
            (course.model, course.block, course.progressive, course.r1, course.lr, course.batch)
    name, extra = experiments.BUDGETS["short"]["degradation"]
    assert stage1.schedule(name, **extra).iterations * 2 == stage1.schedule("course").iterations


def test_a_grid_keeps_the_schedules_threads_unless_told(tmp_path):
    from selfsr_edu.train import stage2

    row = experiments.EXPERIMENTS["table4"][0]
    assert stage2.schedule("quick").threads == 1
    assert experiments._sr_config(row, "quick", 0, tmp_path / "q", False).threads == 1   # quick: one thread
    assert experiments._sr_config(row, "quick", 0, tmp_path / "q", False, threads=2).threads == 2
    assert experiments._sr_config(row, "course", 0, tmp_path / "c", False).threads == stage2.schedule("course").threads


def test_paired_difference_between_any_two_rows_by_hand():
    # Table III's Cyc → Cyc + Idt: not against the full model, so table() does not give it
    cyc = [{"row": "Cyc", "seed": s, "PSNR": p} for s, p in enumerate((20.0, 20.5, 21.0, 19.0))]
    idt = [{"row": "Cyc + Idt", "seed": s, "PSNR": p} for s, p in enumerate((21.0, 21.0, 21.5))]   # no seed 3
    d = experiments.paired_difference(cyc + idt, "Cyc + Idt", "Cyc", "PSNR")
    assert d["seeds"] == [0, 1, 2] and d["per_seed"] == pytest.approx([1.0, 0.5, 0.5])
    sd = math.sqrt(((1.0 - 2 / 3) ** 2 + 2 * (0.5 - 2 / 3) ** 2) / 2)
    half = 4.303 * sd / math.sqrt(3)                               # t_{0.975, 2} from a printed t table
    assert (d["mean"], d["low"], d["high"]) == pytest.approx((2 / 3, 2 / 3 - half, 2 / 3 + half), abs=1e-9)
    one = experiments.paired_difference(cyc + idt[:1], "Cyc + Idt", "Cyc", "PSNR")
    assert one["mean"] == 1.0 and math.isnan(one["low"])          # one seed: no interval, not a fake one
    with pytest.raises(ValueError, match="FF \\+ Idt"):
        experiments.paired_difference(cyc, "FF + Idt", "Cyc", "PSNR")
    with pytest.raises(ValueError, match="share no seed"):
        experiments.paired_difference(cyc[:1] + idt[1:], "Cyc + Idt", "Cyc", "PSNR")


def test_t_quantile_beyond_the_small_table():
    # printed t tables: t_{0.975, 10} = 2.228, t_{0.975, 20} = 2.086, t_{0.975, 30} = 2.042 (not the normal 1.96)
    assert [round(experiments.t975(df), 3) for df in (2, 10, 20, 30)] == [4.303, 2.228, 2.086, 2.042]
    with pytest.raises(ValueError, match="2 seeds"):
        experiments.t975(0)
