"""The claims scoreboard: the verdict rule, records read from run folders (seeds, spreads,
sweeps), the generated results/CLAIMS.md, and `cnn-keras claims`."""

import csv
import json
from pathlib import Path

import pytest

from cnn_keras import claims
from cnn_keras.claims import evidence, kinds, verdict
from cnn_keras.claims.evidence import METRICS, load_record
from cnn_keras.claims.kinds import Compare, Count, Reach
from cnn_keras.cli import main

REPO = Path(__file__).resolve().parents[1]


# --- the rule -----------------------------------------------------------------------------------
@pytest.mark.parametrize("gap, spread, seeds, expected", [
    (3.0, 1.0, 2, verdict.REPRODUCED),
    (-3.0, 1.0, 2, verdict.OPPOSITE),
    (2.9, 1.0, 2, verdict.UNDECIDED),  # two seeds: under 3 spreads needs more seeds
    (2.0, 1.0, 3, verdict.WEAK),
    (0.5, 1.0, 3, verdict.NOISE),
    (-2.0, 1.0, 3, verdict.OPPOSITE_WEAK),  # as weak as +2 spreads: not plain opposite
    (10.0, None, 1, verdict.UNDECIDED),  # no spread: a single seed decides nothing
    (0.1, 0.0, 2, verdict.REPRODUCED),
])
def test_comparison_rule(gap, spread, seeds, expected):
    assert verdict.comparison(gap, spread, seeds) == expected


def test_no_gain_counts_noise_and_worse_as_reproduced():
    assert verdict.no_gain(verdict.NOISE) == verdict.REPRODUCED
    assert verdict.no_gain(verdict.REPRODUCED) == verdict.REPRODUCED
    assert verdict.no_gain(verdict.OPPOSITE) == verdict.OPPOSITE
    assert verdict.no_gain(verdict.UNDECIDED) == verdict.UNDECIDED


@pytest.mark.parametrize("ours, spread, expected", [
    (9.0, 0.1, verdict.REPRODUCED),  # 0.25 above the paper: within 3 spreads
    (9.2, 0.1, verdict.SHORT),
    (8.0, 0.1, verdict.REPRODUCED),  # better than the paper
    (8.75, None, verdict.UNDECIDED),  # one seed: no spread to judge the distance by
])
def test_reach_rule(ours, spread, expected):
    assert verdict.reach(ours, 8.75, spread) == expected


# --- records ------------------------------------------------------------------------------------
def _record(folder: Path, seed: int, errors: dict) -> None:
    """A finished study run: summary.csv with the final test errors, run.json with its set-up."""
    folder.mkdir(parents=True)
    with open(folder / "summary.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=("variant", "final_test_error", "epochs"))
        w.writeheader()
        w.writerows({"variant": k, "final_test_error": v, "epochs": 5} for k, v in errors.items())
    (folder / "run.json").write_text(json.dumps({
        "seed": seed, "dataset": {"num_train": 50000, "num_test": 10000},
        "summary": [{"epochs": 5}],
        "training_hardware": {"device": "CPU (2 cores)", "cores": 2, "cpu": "Test CPU"}}))


def test_compare_uses_every_seed_and_the_larger_spread(tmp_path):
    _record(tmp_path / "study", 0, {"a": 10.0, "b": 14.0})
    _record(tmp_path / "study-seed1", 1, {"a": 11.0, "b": 15.0})
    row = Compare("study", "final_test_error", "a", "b", plan="").evaluate(tmp_path)
    assert row["gap"] == pytest.approx(4.0)
    assert row["spread"] == pytest.approx(0.7071, abs=1e-4)  # stdev of (10, 11) and of (14, 15)
    assert row["verdict"] == verdict.REPRODUCED
    assert "50000/10000 images, 5 epochs, seeds 0, 1, 2 cores Test CPU" in row["setup"]


def test_the_setup_names_every_machine_the_seeds_ran_on(tmp_path):
    _record(tmp_path / "mixed", 0, {"a": 10.0})
    _record(tmp_path / "mixed-seed1", 1, {"a": 11.0})
    info = json.loads((tmp_path / "mixed-seed1" / "run.json").read_text())
    info["training_hardware"] = {"device": "GPU x1 (NVIDIA H200)"}
    (tmp_path / "mixed-seed1" / "run.json").write_text(json.dumps(info))
    assert load_record(tmp_path, "mixed").setup.endswith(
        "seeds 0, 1, 2 cores Test CPU + GPU x1 (NVIDIA H200)")


def test_the_setup_names_the_machine_of_every_variant_and_session(tmp_path):
    """A seed split over sessions with --variants: the folder's run.json names the last
    session's machine; each variant's own run.json, with the sessions it was resumed in, names
    where it trained."""
    _record(tmp_path / "split", 0, {"a": 10.0, "b": 11.0, "c": 12.0})
    cpu = {"device": "CPU (2 cores)", "cores": 2, "cpu": "Test CPU"}
    gpu = {"device": "GPU x1 (NVIDIA H200)"}
    runs = {"a": {"hardware": cpu},
            "b": {"hardware": {**cpu, "cpu_simd": "avx2"}},
            "c": {"hardware": cpu, "resumed": [{"at_epoch": 2, "hardware": gpu},
                                                {"at_epoch": 3}]}}  # recorded before 2026-12-07
    for variant, info in runs.items():
        (tmp_path / "split" / variant).mkdir()
        (tmp_path / "split" / variant / "run.json").write_text(json.dumps(info))
    machines = "2 cores Test CPU + 2 cores Test CPU (avx2) + GPU x1 (NVIDIA H200)"
    assert load_record(tmp_path, "split").setup.endswith(f"seed 0, {machines}")
    assert evidence.training_time(tmp_path, "split")["hardware"] == machines


def test_one_seed_is_undecided_unless_other_variants_give_a_spread(tmp_path):
    _record(tmp_path / "one", 0, {"a": 10.0, "b": 14.0})
    row = Compare("one", "final_test_error", "a", "b",
                  plan="not yet run: a and b, 3 seeds").evaluate(tmp_path)
    assert row["verdict"] == verdict.UNDECIDED
    assert row["setup"].endswith("`results/one`; to decide, more seeds of: a and b, 3 seeds, "
                                 "the next with `--seed 1 --variants a b --out runs/one-seed1`, "
                                 "then `cnn-keras record runs/one-seed1 results/one-seed1`")
    # b already has seed 1 (a record repeated a variant at a time): each variant's next seed
    _record(tmp_path / "one-seed1", 1, {"b": 11.0})
    row = Compare("one", "final_test_error", "a", "b", plan="a and b").evaluate(tmp_path)
    assert row["verdict"] == verdict.UNDECIDED
    assert row["setup"].endswith("the next with `--seed 1 --variants a --out runs/one-seed1`, then "
                                 "`cnn-keras record runs/one-seed1 results/one-seed1`; `--seed 2 "
                                 "--variants b --out runs/one-seed2`, then `cnn-keras record "
                                 "runs/one-seed2 results/one-seed2`")
    # a seed missing in the middle (seed 2 recorded, seed 1 not) is the next one to run
    _record(tmp_path / "gap", 0, {"a": 10.0, "b": 11.5})
    _record(tmp_path / "gap-seed2", 2, {"a": 11.0})
    row = Compare("gap", "final_test_error", "a", "b", plan="a and b").evaluate(tmp_path)
    assert "`--seed 1 --variants a b --out runs/gap-seed1`" in row["setup"]
    # c and d ran with two seeds: their spread stands for a and b's (said so)
    _record(tmp_path / "two", 0, {"a": 10.0, "b": 14.0, "c": 12.0})
    _record(tmp_path / "two-seed1", 1, {"c": 12.5})
    row = Compare("two", "final_test_error", "a", "b", plan="").evaluate(tmp_path)
    assert row["verdict"] == verdict.REPRODUCED and "(of c)" in row["ours"]
    # b's second seed: a's one seed borrows the largest spread of the record, not b's alone
    _record(tmp_path / "three", 0, {"a": 10.0, "b": 14.0, "c": 12.0})
    _record(tmp_path / "three-seed1", 1, {"b": 14.01, "c": 15.0})
    row = Compare("three", "final_test_error", "a", "b", plan="").evaluate(tmp_path)
    assert row["spread"] == pytest.approx(2.1213, abs=1e-4)  # c's, not b's 0.007
    assert row["verdict"] == verdict.UNDECIDED and "(of b, c)" in row["ours"]


def test_a_curve_claim_lists_the_whole_sweep_beside_the_verdict_on_its_ends(tmp_path):
    _record(tmp_path / "rho", 0, {"r32": 27.6, "r28": 41.4, "r24": 39.6, "r20": 45.8})
    _record(tmp_path / "rho-seed1", 1, {"r32": 28.6, "r20": 46.8})
    row = Compare("rho", "final_test_error", "r32", "r20", plan="",
                  curve=("r32", "r28", "r24", "r20")).evaluate(tmp_path)
    assert row["verdict"] == verdict.REPRODUCED  # the ends: 18.2 points, spread 0.71
    assert row["ours"].endswith("; the whole sweep: r32 28.10%, r28 41.40%, r24 39.60%, "
                                "r20 46.30%")  # not monotone: shown, not judged


def test_a_sweep_counts_its_best_member(tmp_path):
    _record(tmp_path / "sweep", 0, {"x1": 9.0, "x2": 7.0, "y1": 8.0, "y2": 12.0})
    _record(tmp_path / "sweep-seed1", 1, {"x1": 9.0, "x2": 7.2, "y1": 8.2, "y2": 12.0})
    row = Compare("sweep", "final_test_error", ("x1", "x2"), ("y1", "y2"), plan="").evaluate(
        tmp_path)
    assert row["gap"] == pytest.approx(1.0)  # y1 (8.1) against x2 (7.1)
    assert row["ours"].startswith("test error: x2 7.10% ± 0.14 (2 seeds)")


def test_the_overfitting_gap_is_test_minus_training_error(tmp_path):
    folder = tmp_path / "reg"
    folder.mkdir()
    # fit's training error (dropout active) is not what the gap uses: the clean one is
    (folder / "summary.csv").write_text(
        "variant,final_train_error,final_test_error,final_train_error_clean,clean_train_images,"
        "epochs\ndrop,30.0,22.0,20.5,50000,15\nno_drop,9.0,24.0,8.25,50000,15\n")
    _record(tmp_path / "other", 0, {"a": 1.0})  # borrow a run.json
    (folder / "run.json").write_text((tmp_path / "other" / "run.json").read_text())
    rec = load_record(tmp_path, "reg")
    assert rec.values["generalisation_gap"] == {"drop": [1.5], "no_drop": [15.75]}
    row = Compare("reg", "generalisation_gap", "drop", "no_drop", plan="").evaluate(tmp_path)
    assert row["ours"].startswith("test minus training error: drop 1.50 points (1 seed) vs "
                                  "no_drop 15.75 points (1 seed); gap +14.25 points")


def test_a_clean_training_error_from_part_of_the_training_images_is_not_counted(tmp_path):
    """Records made before clean_train_images measured the first 10,000 training images: in
    the class-sorted JPEG copy, airplanes and automobiles only."""
    folder = tmp_path / "reg"
    _record(folder, 0, {"drop": 22.0, "no_drop": 24.0})
    (folder / "summary.csv").write_text(
        "variant,final_test_error,final_train_error_clean,clean_train_images,epochs\n"
        "drop,22.0,20.5,,15\nno_drop,24.0,8.25,10000,15\n")
    rec = load_record(tmp_path, "reg")
    assert rec.values["generalisation_gap"] == rec.values["final_train_error_clean"] == {}
    assert rec.partial == {(m, k, 0) for m in ("generalisation_gap", "final_train_error_clean")
                           for k in ("drop", "no_drop")}
    assert rec.values["final_test_error"] == {"drop": [22.0], "no_drop": [24.0]}
    row = Compare("reg", "generalisation_gap", "drop", "no_drop",
                  plan="not yet run: the pair, 15 epochs").evaluate(tmp_path)
    assert row["verdict"] == verdict.NOT_MEASURED
    assert row["ours"].startswith("not counted: the clean training error of drop, no_drop")
    assert row["setup"].endswith("to re-run: the pair, 15 epochs")
    # seeds 1 and 2 measured again on all the images: they count, seed 0 is said to be left out
    for seed, (drop, no_drop) in ((1, (1.0, 4.0)), (2, (1.2, 4.1))):
        _record(tmp_path / f"reg-seed{seed}", seed, {})
        (tmp_path / f"reg-seed{seed}" / "summary.csv").write_text(
            "variant,final_test_error,final_train_error_clean,clean_train_images,epochs\n"
            f"drop,22.0,{22.0 - drop},50000,15\nno_drop,24.0,{24.0 - no_drop},50000,15\n")
    row = Compare("reg", "generalisation_gap", "drop", "no_drop", plan="").evaluate(tmp_path)
    assert row["verdict"] == verdict.REPRODUCED  # 2.95 points, 20 spreads of 0.14
    assert "drop 1.10 points ± 0.14 (2 seeds)" in row["ours"]
    assert row["ours"].endswith("; not counted: seed 0 of drop, no_drop (a clean training "
                                "error from the first 10,000 training images)")


def test_records_without_the_clean_training_error_have_no_gap(tmp_path):
    _record(tmp_path / "old", 0, {"a": 10.0})
    assert load_record(tmp_path, "old").values["generalisation_gap"] == {}


def test_reach_compares_the_mean_over_seeds_with_the_papers_number(tmp_path):
    _record(tmp_path / "paper", 0, {"resnet20": 9.0})
    _record(tmp_path / "paper-seed1", 1, {"resnet20": 9.2})
    row = Reach("paper", "final_test_error", "resnet20", 8.75, plan="").evaluate(tmp_path)
    assert row["verdict"] == verdict.REPRODUCED  # 0.35 above; 3 spreads are 0.42
    assert "resnet20 9.10% ± 0.14 (2 seeds); +0.35% from the paper's 8.75%" in row["ours"]
    # one seed: undecided, unless the paper's own spread is given to judge the distance by
    _record(tmp_path / "once", 0, {"resnet20": 9.5})
    assert Reach("once", "final_test_error", "resnet20", 8.75,
                 plan="").evaluate(tmp_path)["verdict"] == verdict.UNDECIDED
    row = Reach("once", "final_test_error", "resnet20", 8.75, plan="",
                paper_spread=(0.16, "Table 6, 5 runs")).evaluate(tmp_path)
    assert row["verdict"] == verdict.SHORT  # 0.75 above: more than 3 x 0.16
    assert row["ours"].endswith("+0.75% from the paper's 8.75%; judged by the paper's spread, "
                                "± 0.16% (Table 6, 5 runs), for want of a second seed")
    row = Reach("paper", "final_test_error", "resnet20", 8.75, plan="",
                paper_spread=(0.16, "Table 6")).evaluate(tmp_path)
    assert "judged by" not in row["ours"]  # two seeds: their own spread
    missing = Reach("none", "final_test_error", "resnet20", 8.75, plan="run it")
    assert missing.evaluate(tmp_path)["verdict"] == verdict.NOT_MEASURED


def test_a_missing_record_shows_its_plan(tmp_path):
    row = Compare("nothing", "final_test_error", "a", "b", plan="run this").evaluate(tmp_path)
    assert row["verdict"] == verdict.NOT_MEASURED and row["setup"] == "run this"


def test_a_fallback_record_decides_until_the_record_itself_exists(tmp_path):
    """A CPU version of a GPU record stands in for it; once the GPU record exists, it counts."""
    compare = Compare("eq-gpu", "final_test_error", "a", "b", plan="", fallback="eq-cpu")
    reach = Reach("paper-gpu", "final_test_error", "a", 8.75, plan="", fallback="paper-cpu")
    assert compare.evaluate(tmp_path)["verdict"] == verdict.NOT_MEASURED
    _record(tmp_path / "eq-cpu", 0, {"a": 20.0, "b": 24.0})
    _record(tmp_path / "eq-cpu-seed1", 1, {"a": 21.0, "b": 25.0})
    _record(tmp_path / "paper-cpu", 0, {"a": 9.0})
    assert "`results/eq-cpu`" in compare.evaluate(tmp_path)["setup"]
    assert "`results/paper-cpu`" in reach.evaluate(tmp_path)["setup"]
    _record(tmp_path / "eq-gpu", 0, {"a": 5.0})  # a GPU record made in part: not yet used
    _record(tmp_path / "paper-gpu", 0, {"b": 5.0})
    assert "`results/eq-cpu`" in compare.evaluate(tmp_path)["setup"]
    assert "`results/paper-cpu`" in reach.evaluate(tmp_path)["setup"]
    _record(tmp_path / "eq-gpu-seed1", 1, {"a": 5.5, "b": 6.5})
    _record(tmp_path / "paper-gpu-seed1", 1, {"a": 8.0})
    row = compare.evaluate(tmp_path)
    assert "`results/eq-gpu`" in row["setup"] and row["gap"] == pytest.approx(6.5 - 5.25)
    assert "a 8.00% (1 seed)" in reach.evaluate(tmp_path)["ours"]
    assert kinds.records(compare) == ("eq-gpu", "eq-cpu")
    assert kinds.records(Count(lambda: ("", True))) == ()


@pytest.mark.parametrize("name, command", [
    ("densenet-eq", "--mode record --variants resnet20 k12"),
    ("densenet-eq-cpu", "--mode record --variants resnet20 k12"),
    ("resnet20-paper-gpu", "--out runs/resnet20-paper-cpu"),
    ("resnet20-paper-cpu", "--out runs/resnet20-paper-cpu")])
def test_a_gpu_record_and_its_cpu_version_name_the_run_that_makes_them(name, command):
    assert any(command in plan for plan in claims.notebook.planned(name))


def test_a_curve_runs_from_the_better_end_to_the_worse():
    with pytest.raises(ValueError, match="from `better` to `worse`.*Received: curve="):
        Compare("r", "final_test_error", "a", "c", plan="", curve=("a", "b"))


@pytest.mark.parametrize("worse, expected", [
    ((2.0, 1.5, 2.5), verdict.REPRODUCED),  # a cost of 1.0 +- 0.5: the paper's 1.1 within noise
    ((10.0, 9.5, 10.5), verdict.OPPOSITE),  # a cost of 9 points, 16 spreads above 1.1
    ((3.0, 2.5, 3.5), verdict.OPPOSITE_WEAK),  # 0.9 above the paper's cost: 1.8 spreads
])
def test_a_small_cost_claim_bounds_the_gap_by_the_papers(tmp_path, worse, expected):
    for seed, w in enumerate(worse):
        _record(tmp_path / ("r" if seed == 0 else f"r-seed{seed}"), seed,
                {"idea": w, "full": (1.0, 0.5, 1.5)[seed]})
    row = Compare("r", "final_test_error", "full", "idea", plan="", cost=1.1).evaluate(tmp_path)
    assert row["verdict"] == expected
    assert "(the paper's cost 1.1%)" in row["ours"]


def test_a_record_without_a_variant_yet_keeps_the_plan_to_finish_it(tmp_path):
    _record(tmp_path / "part", 0, {"a": 20.0})
    row = Compare("part", "final_test_error", "a", "b",
                  plan="not yet run: a vs b (`cnn-keras ablation x`)").evaluate(tmp_path)
    assert row["verdict"] == verdict.NOT_MEASURED and row["ours"] == "not yet trained in part: b"
    assert row["setup"].endswith("`results/part`; still to run: a vs b (`cnn-keras ablation x`)")


def test_every_claim_names_a_known_notebook_metric_and_unique_id():
    ids = [c.id for c in claims.CLAIMS]
    assert len(ids) == len(set(ids))
    assert {c.notebook for c in claims.CLAIMS} == set(claims.PAPERS)
    for c in claims.CLAIMS:
        if isinstance(c.evidence, Compare):
            assert c.evidence.metric in METRICS
            assert c.evidence.expect in ("lower", "no gain")


# --- the generated scoreboard -------------------------------------------------------------------
def test_the_committed_scoreboard_and_readme_summary_are_what_the_records_give():
    rows = claims.evaluate(REPO / "results")
    stale = "is stale: run `cnn-keras claims` and commit it"
    board = claims.render(rows, claims.training(REPO / "results"))
    assert board == (REPO / "results" / "CLAIMS.md").read_text(), \
        f"results/CLAIMS.md {stale}"
    assert claims.readme_block(rows) in (REPO / "README.md").read_text(), \
        f"the README's summary {stale}"


def test_the_training_behind_a_record_is_summed_per_machine_kind(tmp_path):
    _record(tmp_path / "mixed", 0, {"a": 10.0, "b": 11.0})
    _record(tmp_path / "mixed-seed1", 1, {"a": 10.5})
    for folder, seconds in (("mixed", [1800, 5400]), ("mixed-seed1", [None])):
        with open(tmp_path / folder / "summary.csv") as f:
            rows = list(csv.DictReader(f))
        for row, s in zip(rows, seconds):
            row["train_seconds"] = "" if s is None else s
        with open(tmp_path / folder / "summary.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=[*rows[0]])
            w.writeheader()
            w.writerows(rows)
    info = json.loads((tmp_path / "mixed-seed1" / "run.json").read_text())
    info["training_hardware"] = {"device": "GPU x1 (NVIDIA H200)"}
    (tmp_path / "mixed-seed1" / "run.json").write_text(json.dumps(info))
    t = evidence.training_time(tmp_path, "mixed")
    assert (t["nets"], t["untimed"], t["hours"]) == (3, 1, {"CPU": 2.0, "GPU": 0.0})
    assert t["hardware"] == "2 cores Test CPU + GPU x1 (NVIDIA H200)"
    assert evidence.training_time(tmp_path, "none") is None
    lines = claims.board.training_table([t])
    assert "| `results/mixed` | 3 | 2.0 h on CPU (1 untimed) | 2 cores Test CPU + GPU x1" \
        " (NVIDIA H200) |" in lines
    assert lines[-2] == "In all: 3 nets, 2.0 h on CPU."


def test_the_readme_block_is_replaced_between_its_markers_only():
    rows = [{"notebook": "04", "verdict": verdict.REPRODUCED}]
    text = f"intro\n{claims.board.README_BEGIN}\nold\n{claims.board.README_END}\nrest\n"
    new = claims.with_readme_block(text, rows)
    assert new.startswith("intro\n") and new.endswith("\nrest\n") and "old" not in new
    assert "| 04 | ResNet (He et al. 2015) | 1 reproduced |" in new
    assert claims.with_readme_block("no markers", rows) == "no markers"


def test_cli_writes_the_scoreboard_and_checks_its_arguments(tmp_path, capsys, monkeypatch):
    # the counting claims are checked by the test above; here only the command's work
    monkeypatch.setattr(Count, "evaluate", lambda self, results: {
        "ours": "counted", "setup": "-", "verdict": verdict.HOLDS})
    _record(tmp_path / "degradation-cpu-10ep", 0, {"plain20": 10.0, "plain56": 20.0})
    out = tmp_path / "board.md"
    assert main(["claims", "--results", str(tmp_path), "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Claims scoreboard") and "## 04 · ResNet" in text
    assert "Scoreboard: " in capsys.readouterr().out
    assert main(["claims", "--results", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "--out" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["claims", "--results", str(tmp_path / "missing")])
    assert exc.value.code == 2
    assert "existing folder of recorded runs" in capsys.readouterr().err


def test_record_copies_the_record_without_checkpoints(tmp_path, capsys):
    run = tmp_path / "run"
    _record(run, 0, {"a": 10.0})
    (run / "ablation.png").write_bytes(b"png")
    (run / "a").mkdir()
    for name in ("history.csv", "run.json", "checkpoint-0001.keras", "progress.json", ".lock"):
        (run / "a" / name).write_text("x")
    info = json.loads((run / "run.json").read_text())
    info["summary"] = [{"variant": "a", "epochs": 5}]
    (run / "run.json").write_text(json.dumps(info))
    assert main(["record", str(run), str(tmp_path / "results" / "rec")]) == 0
    got = sorted(p.relative_to(tmp_path / "results" / "rec").as_posix()
                 for p in (tmp_path / "results" / "rec").rglob("*") if p.is_file())
    assert got == ["a/history.csv", "a/run.json", "ablation.png", "run.json", "summary.csv"]
    (run / "run.json").unlink()  # an unfinished run: refused, nothing copied
    assert main(["record", str(run), str(tmp_path / "other")]) == 2
    assert "finished study run" in capsys.readouterr().err and not (tmp_path / "other").exists()


def test_a_threshold_never_reached_counts_as_a_lower_bound(tmp_path):
    folder = tmp_path / "fig"
    folder.mkdir()
    with open(folder / "summary.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=("variant", "epochs", "epochs_to_threshold"))
        w.writeheader()
        w.writerows([{"variant": "fast", "epochs": 20, "epochs_to_threshold": 5},
                     {"variant": "slow", "epochs": 20, "epochs_to_threshold": ""}])
    info = {"seed": 0, "summary": [{"epochs": 20}], "threshold_train_error": 25.0}
    (folder / "run.json").write_text(json.dumps(info))
    row = Compare("fig", "epochs_to_threshold", "fast", "slow", plan="").evaluate(tmp_path)
    assert row["gap"] == 16  # 21 (more than the run's 20 epochs) against 5
    assert "slow ≥ 21.00 (1 seed)" in row["ours"] and "not reached" in row["ours"]
    assert claims.record_summary(tmp_path, "fig")[1]["epochs_to_threshold"] == "≥ 21.00"
    # a study that counts no threshold has no epochs-to-threshold at all, not a lower bound
    (folder / "run.json").write_text(json.dumps({**info, "threshold_train_error": None}))
    assert "slow" not in load_record(tmp_path, "fig").values["epochs_to_threshold"]


def test_a_sweep_that_never_reached_the_threshold_counts_its_nearest_member(tmp_path):
    folder = tmp_path / "fig"
    folder.mkdir()
    with open(folder / "summary.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=("variant", "epochs", "final_train_error",
                                          "epochs_to_threshold"))
        w.writeheader()
        w.writerows([{"variant": "fast", "epochs": 20, "final_train_error": 10,
                      "epochs_to_threshold": 5},
                     {"variant": "slow_a", "epochs": 20, "final_train_error": 90,
                      "epochs_to_threshold": ""},
                     {"variant": "slow_b", "epochs": 20, "final_train_error": 26,
                      "epochs_to_threshold": ""}])
    info = {"seed": 0, "summary": [{"epochs": 20}], "threshold_train_error": 25.0}
    (folder / "run.json").write_text(json.dumps(info))
    row = Compare("fig", "epochs_to_threshold", "fast", ("slow_a", "slow_b"),
                  plan="").evaluate(tmp_path)
    # both at >= 21 epochs: the one whose training error came nearest to the threshold counts
    assert "vs slow_b ≥ 21.00 (1 seed)" in row["ours"] and row["gap"] == 16


def test_record_summary_gives_each_variant_mean_and_spread(tmp_path):
    _record(tmp_path / "r", 0, {"a": 10.0, "b": 14.0})
    _record(tmp_path / "r-seed1", 1, {"a": 11.0})
    rows = {r["variant"]: r for r in claims.record_summary(tmp_path, "r")}
    assert rows["a"]["final_test_error"] == "10.50 ± 0.71" and rows["a"]["seeds"] == 2
    assert rows["b"]["final_test_error"] == "14.00" and rows["b"]["seeds"] == 1
    assert claims.record_summary(tmp_path, "missing") == []


# --- a record as a notebook shows it ------------------------------------------------------------
def test_a_record_table_gives_each_variant_its_seeds_and_spread(tmp_path):
    _record(tmp_path / "study", 0, {"a": 10.0, "b": 14.0})
    _record(tmp_path / "study-seed1", 1, {"a": 11.0})
    lines = claims.record_table(tmp_path, "study").splitlines()
    assert lines[0].split() == ["variant", "seeds", "final_test_error"]
    assert lines[1].split() == ["a", "2", "10.50", "±", "0.71"]
    assert lines[2].split() == ["b", "1", "14.00"]


def test_a_missing_record_shows_the_run_that_makes_it(tmp_path, capsys):
    claims.show_record(tmp_path, "vgg-cpu")
    out = capsys.readouterr().out
    assert out.startswith("results/vgg-cpu is not recorded yet")
    assert "cnn-keras ablation vgg_depth --mode record" in out


def test_a_record_not_made_yet_shows_its_cpu_version(tmp_path, capsys):
    claims.show_record(tmp_path, "densenet-eq", fallback="densenet-eq-cpu")
    assert "cnn-keras ablation densenet --mode record" in capsys.readouterr().out  # the plan
    _record(tmp_path / "densenet-eq-cpu", 0, {"resnet20": 20.0, "k12": 22.0})
    claims.show_record(tmp_path, "densenet-eq", fallback="densenet-eq-cpu")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "results/densenet-eq is not recorded yet; its CPU version, until it is:"
    assert out[1].startswith("results/densenet-eq-cpu: CIFAR-10 50000/10000 images, 5 epochs")
    assert any(line.startswith("k12 ") and "22" in line for line in out)


def test_no_gain_claims_put_the_idea_on_the_worse_side(tmp_path):
    """A claim that an idea does not help fails when the net with the idea is clearly better:
    DenseNet's 'a third of the parameters' is opposite when ResNet-20 is far lower."""
    _record(tmp_path / "densenet-cpu", 0, {"resnet20": 10.0, "bc28_k12": 14.0, "b28_k12": 9.0})
    _record(tmp_path / "densenet-cpu-seed1", 1, {"resnet20": 10.2, "bc28_k12": 14.2,
                                                 "b28_k12": 9.2})
    rows = {r["id"]: r for r in claims.evaluate(tmp_path, notebook="05")}
    assert rows["densenet.third"]["verdict"] == verdict.OPPOSITE
    assert rows["densenet.compression"]["verdict"] == verdict.OPPOSITE
