"""framing compare: paired bootstrap over articles of two runs' or models' F1 on the same
units; the statistics against a direct computation, intervals that hold their estimate,
the command on two tracked seed runs, and bad input."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from sklearn.metrics import f1_score

import framing
from framing.cli import main as cli
from framing.cli.train import train
from framing.config.tree import compose
from framing.evaluate.compare import (
    ALL,
    MACRO,
    MEAN,
    TaskUnits,
    compare,
    paired_bootstrap,
    predictions_path,
    summarise,
)

from conftest import SEEDS, run_cli, write_jsonl

# -- hand-made predictions: 14 units in 5 articles of 1 to 4 units -----------------------------
GROUPS = ["a1", "a2", "a2", "a3", "a3", "a3", "a4", "a4", "a4", "a4", "a5", "a5", "a5", "a5"]
THEME = ["security", "economy", "gaza"]  # gaza: one gold unit, so absent from many draws
THEME_TRUE = [["security"], ["economy"], [], ["security", "economy"], ["gaza"], [],
              ["security"], ["security"], ["economy"], [], ["economy"], ["security"], [], []]
THEME_A = [["security"], [], [], ["security"], [], ["economy"], ["security"], [],
           ["economy"], [], ["economy"], ["security", "economy"], [], ["security"]]
THEME_B = [["security"], ["economy"], [], ["security", "economy"], ["gaza"], [], [],
           ["security"], ["economy"], ["gaza"], [], ["security"], ["economy"], []]
TONE = ["promotional", "reportorial", "critical"]  # critical: never gold, once predicted
TONE_TRUE = list("PRRPRRPPRRPRRR")
TONE_A = list("PPRRRRPRRCPRPR")
TONE_B = list("PRRPRPPPRRRRRR")


def _records(theme, tone):
    full = dict(zip("PRC", TONE, strict=True))
    return [{"id": f"u{i}", "group": g, "text": f"unit {i}",
             "theme_true": THEME_TRUE[i], "theme_pred": theme[i],
             "theme_scores": dict.fromkeys(THEME, 0.5),
             "tone_true": full[TONE_TRUE[i]], "tone_pred": full[tone[i]],
             "tone_scores": dict.fromkeys(TONE, 0.3)} for i, g in enumerate(GROUPS)]


def _binary(lists, labels):
    return np.array([[lab in x for lab in labels] for x in lists], dtype=bool)


def _direct(zero_division, draws, seed):
    """Per (task, label): the differences B - A on each draw, computed row by row from the
    units drawn (articles drawn with replacement, as ``rng.integers(0, G, G)`` per draw)."""
    full = dict(zip("PRC", TONE, strict=True))
    tasks = {"theme": (THEME, _binary(THEME_TRUE, THEME), _binary(THEME_A, THEME),
                       _binary(THEME_B, THEME)),
             "tone": (TONE, *(np.array([[full[v] == lab for lab in TONE] for v in x])
                              for x in (TONE_TRUE, TONE_A, TONE_B)))}
    articles = sorted(set(GROUPS))
    members = [np.array([i for i, g in enumerate(GROUPS) if g == a]) for a in articles]

    def f1s(y, p):
        out = []
        for j in range(y.shape[1]):
            tp = int(np.sum(y[:, j] & p[:, j]))
            wrong = int(np.sum(y[:, j] != p[:, j]))
            out.append(2 * tp / (2 * tp + wrong) if 2 * tp + wrong else zero_division)
        return np.array(out, dtype=float)

    def mean(v):
        v = np.asarray(v, dtype=float)
        return float(np.mean(v[~np.isnan(v)])) if (~np.isnan(v)).any() else math.nan

    def figures(idx):
        out = {}
        for name, (labels, y, a, b) in tasks.items():
            fa, fb = f1s(y[idx], a[idx]), f1s(y[idx], b[idx])
            out[name, MACRO] = (mean(fa), mean(fb))
            for j, lab in enumerate(labels):
                out[name, lab] = (fa[j], fb[j])
        out[ALL, MEAN] = tuple(mean([out[t, MACRO][s] for t in tasks]) for s in (0, 1))
        return out

    point = figures(np.arange(len(GROUPS)))
    rng = np.random.default_rng(seed)
    diffs = {k: [] for k in point}
    for _ in range(draws):
        idx = np.concatenate([members[g] for g in rng.integers(0, len(articles),
                                                                len(articles))])
        for k, (a, b) in figures(idx).items():
            diffs[k].append(b - a)
    return point, {k: np.array(v) for k, v in diffs.items()}


@pytest.mark.parametrize("zero_division", ["0", "1", "nan"])
def test_interval_and_win_share_equal_a_direct_computation(zero_division):
    zd = {"0": 0.0, "1": 1.0, "nan": math.nan}[zero_division]
    c = compare(_records(THEME_A, TONE_A), _records(THEME_B, TONE_B), "a", "b", draws=300,
                seed=7, zero_division=zero_division)
    point, diffs = _direct(zd, 300, 7)
    assert c.n_units == 14 and c.n_groups == 5 and c.grouped
    assert {(r.task, r.label) for r in c.rows} == set(point)
    for r in c.rows:
        pa, pb = point[r.task, r.label]
        assert r.a == pytest.approx(pa, nan_ok=True) and r.b == pytest.approx(pb, nan_ok=True)
        d = diffs[r.task, r.label]
        d = d[~np.isnan(d)]
        assert r.draws == len(d)
        if not len(d):
            assert math.isnan(r.low) and math.isnan(r.high)
            continue
        low, high = np.percentile(d, [2.5, 97.5])
        if not r.widened:
            assert (r.low, r.high) == (pytest.approx(low, abs=1e-12),
                                       pytest.approx(high, abs=1e-12))
        else:
            assert (r.low, r.high) == (pytest.approx(min(low, pb - pa), abs=1e-12),
                                       pytest.approx(max(high, pb - pa), abs=1e-12))
        assert r.b_wins == np.mean(d > 1e-12) and r.a_wins == np.mean(d < -1e-12)
    # the point estimates are scikit-learn's F1 with the same zero_division
    y, a = _binary(THEME_TRUE, THEME), _binary(THEME_A, THEME)
    want = f1_score(y, a, average=None, zero_division=zd)
    got = [c.row("theme", lab).a for lab in THEME]
    assert got == pytest.approx(list(want), nan_ok=True)
    assert c.row("theme").a == pytest.approx(f1_score(y, a, average="macro",
                                                      zero_division=zd))
    assert c.row("tone").b == pytest.approx(f1_score(TONE_TRUE, TONE_B, labels=list("PRC"),
                                                     average="macro", zero_division=zd))


def test_point_estimate_inside_every_interval_and_widened_ones_marked():
    widened = 0
    for case in range(40):
        rng = np.random.default_rng(case)
        n, n_groups, n_labels = (int(x) for x in rng.integers([5, 2, 1], [40, 8, 5]))
        y = rng.random((n, n_labels)) < 0.3
        a = np.where(rng.random((n, n_labels)) < 0.7, y, ~y)
        b = np.where(rng.random((n, n_labels)) < 0.8, y, ~y)
        tasks = [TaskUnits("t", "multilabel", [f"l{j}" for j in range(n_labels)],
                           y.astype(np.int8), a.astype(np.int8), b.astype(np.int8)),
                 TaskUnits("u", "multilabel", ["x"], y[:, :1].astype(np.int8),
                           b[:, :1].astype(np.int8), a[:, :1].astype(np.int8))]
        groups = rng.integers(0, n_groups, n)
        draws = int(rng.choice([1, 2, 3, 5, 50, 400]))
        zd = float(rng.choice([0.0, 1.0, math.nan]))
        for r in paired_bootstrap(tasks, groups, draws, case, zd):
            if math.isfinite(r.diff) and math.isfinite(r.low):
                assert r.low <= r.diff <= r.high, (case, r)
            widened += r.widened
    assert widened > 0  # the few-draw cases need it


def test_a_widened_interval_is_marked_in_the_table_and_reports():
    drawn = np.arange(100) / 100 + 0.2  # every drawn difference above the estimate, 0.1
    row = summarise("theme", "gaza", 0.5, 0.6, np.zeros(100), drawn)
    high = np.percentile(drawn, 97.5)
    assert row.widened and row.low == pytest.approx(0.1) and row.high == pytest.approx(high)
    assert row.b_wins == 1.0 and row.a_wins == 0.0
    c = compare(_records(THEME_A, TONE_A), _records(THEME_B, TONE_B), "a", "b", draws=50)
    c.rows = [row]
    line = next(x for x in c.table() if x.startswith("theme"))
    assert f"[+0.1000, {high:+.4f}]*" in line
    assert any("widened to include" in x for x in c.table())
    assert "]*" in c.markdown() and "widened to include" in c.html()


# -- two tracked seed runs -------------------------------------------------------------------
def _train(tmp: Path, name: str, overrides: list[str]) -> Path:
    path = tmp / name / f"{name}.joblib"
    train(compose(["tracking=sqlite", f"tracking.uri=sqlite:///{tmp / 'mlflow.db'}",
                   f"tracking.artifact_location={tmp / 'mlartifacts'}", "eval.n_boot=0",
                   f"output.model_path={path}", *overrides]))
    return path


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Two runs of the seeds in one store, A (logistic regression on n-grams, logged with
    its MLflow model) before B (the default: the model chosen per label); (tmp, uri, A's
    and B's model files and run ids)."""
    tmp = tmp_path_factory.mktemp("compare")
    a = _train(tmp, "a", ["model=logreg", "features=ngrams"])
    b = _train(tmp, "b", ["tracking.log_model=false"])
    ids = [framing.load(p).card["mlflow_run_id"] for p in (a, b)]
    return tmp, f"sqlite:///{tmp / 'mlflow.db'}", a, b, *ids


def test_each_run_writes_its_out_of_fold_predictions_with_their_articles(pair):
    tmp, uri, a, b, run_a, _ = pair
    rows = [json.loads(x) for x in predictions_path(a).read_text().splitlines()]
    seeds = {r["id"]: r for r in map(json.loads, (SEEDS / "paragraphs.jsonl").read_text()
                                     .splitlines())}
    assert len(rows) == len(seeds) == 55
    assert all(r["group"] == seeds[r["id"]]["article"] for r in rows)
    assert {"theme_true", "theme_pred", "theme_scores", "tone_pred"} <= set(rows[0])
    local = MlflowClient(uri).download_artifacts(run_a, "oof_predictions.jsonl", str(tmp))
    assert Path(local).read_text() == predictions_path(a).read_text()


def test_compare_two_runs_prints_the_table_and_logs_to_the_newer_run(pair):
    tmp, uri, a, b, run_a, run_b = pair
    code, out, err = run_cli("framing", "compare", run_a, run_b, "--uri", uri,
                             "-o", tmp / "report.md")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"A: run {run_a} ") and lines[1].startswith(f"B: run {run_b} ")
    assert "55 shared units (out-of-fold predictions) in 5 articles" in out
    assert "difference B − A" in out
    table = {tuple(x.split()[:2]) for x in lines if x.startswith(("theme", "tone", "all"))}
    assert table >= {("theme", "macro-F1"), ("theme", "security"), ("theme", "economy"),
                     ("theme", "diplomacy"), ("theme", "gaza"), ("tone", "macro-F1"),
                     ("tone", "promotional"), ("tone", "reportorial"), ("all", "tasks")}
    # the mean macro-F1 of the out-of-fold predictions is each run's objective
    client = MlflowClient(uri)
    objective = {r: client.get_run(r).data.metrics["objective"] for r in (run_a, run_b)}
    mean = next(x for x in lines if x.startswith("all tasks")).split()
    assert float(mean[4]) == pytest.approx(objective[run_a], abs=5e-5)
    assert float(mean[5]) == pytest.approx(objective[run_b], abs=5e-5)
    assert float(mean[6]) == pytest.approx(objective[run_b] - objective[run_a], abs=1e-4)
    # the report, and the artifacts of the newer run (B) only
    report = (tmp / "report.md").read_text()
    assert report.startswith("# Comparison") and "| theme | gaza |" in report
    folder = f"comparisons/{run_a}"
    logged = {x.path for x in client.list_artifacts(run_b, folder)}
    assert logged == {f"{folder}/comparison.{s}" for s in ("md", "html", "json", "png")}
    assert "comparisons" not in {x.path for x in client.list_artifacts(run_a)}
    assert f"logged to the newer run {run_b}" in err
    got = json.loads(Path(client.download_artifacts(run_b, f"{folder}/comparison.json",
                                                    str(tmp / "dl"))).read_text())
    assert got["difference"] == "B - A" and got["draws"] == 1000 and got["seed"] == 0
    macro = next(r for r in got["rows"] if r["task"] == ALL)
    assert macro["low"] <= macro["diff"] <= macro["high"]
    assert f"{macro['diff']:+.4f}" in next(x for x in lines if x.startswith("all tasks"))


def test_model_files_and_folders_compare_as_their_runs(pair, capsys, tmp_path):
    tmp, uri, a, b, run_a, run_b = pair
    args = ["--draws", "200", "--seed", "3"]
    assert cli.main(["compare", run_a, run_b, "--uri", uri, "--no-log", *args]) == 0
    by_runs = capsys.readouterr().out.splitlines()[2:]
    assert cli.main(["compare", str(a), str(b.parent), *args, "-o",
                     str(tmp_path / "c.html")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"A: model {a}" and out[1] == f"B: folder {b.parent}"
    assert out[2:] == by_runs  # the same units, the same draws, the same figures
    assert (tmp_path / "c.html").read_text().startswith("<!DOCTYPE html>")


def test_compare_two_runs_models_on_a_labelled_test_file(pair, capsys, tmp_path):
    tmp, uri, a, b, run_a, run_b = pair
    rows = [json.loads(x) for x in (SEEDS / "paragraphs.jsonl").read_text().splitlines()]
    test = write_jsonl(tmp_path / "test.jsonl", rows[:30])
    # A's model is its logged MLflow model, B's (logged without one) its predictor/ files
    assert cli.main(["compare", run_a, run_b, "--uri", uri, "--test", str(test),
                     "--zero-division", "nan", "-o", str(tmp_path / "c.json")]) == 0
    out = capsys.readouterr().out
    folder = f"comparisons/{run_a}-on-test"
    assert f"{folder}/comparison.png" in {
        x.path for x in MlflowClient(uri).list_artifacts(run_b, folder)}
    articles = len({r["article"] for r in rows[:30]})
    assert f"30 shared units (predictions on {test}) in {articles} articles" in out
    assert "an absent label's F1 is nan" in out
    got = json.loads((tmp_path / "c.json").read_text())
    tone = next(r for r in got["rows"] if r["task"] == "tone" and r["label"] == MACRO)
    preds = [framing.load(p).predict([r["text"] for r in rows[:30]]) for p in (a, b)]
    truth = [r["tone"] for r in rows[:30]]
    for side, p in zip("ab", preds, strict=True):
        assert tone[side] == pytest.approx(f1_score(truth, [x["tone"] for x in p],
                                                    average="macro", zero_division=np.nan))


# -- bad input: one line, exit 2 -------------------------------------------------------------
def test_an_unknown_run_id_is_one_line(pair):
    tmp, uri, a, b, run_a, run_b = pair
    code, out, err = run_cli("framing", "compare", run_a, "0" * 32, "--uri", uri)
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"framing: error: run {'0' * 32} is not in the MLflow store {uri}; check the id "
        "(framing ui lists the runs), or give the store that holds it with --uri."]


@pytest.fixture(scope="module")
def other_corpus_model(tmp_path_factory):
    """A model of another corpus (other ids, another task), its predictions beside it."""
    tmp = tmp_path_factory.mktemp("other")
    frames = ["conflict", "economic", "human"]
    data = write_jsonl(tmp / "frames.jsonl", [
        {"id": f"f{i}", "outlet": f"o{i % 4}", "frame": frames[i % 3],
         "text": f"{frames[i % 3]} words item {i}"} for i in range(24)])
    path = tmp / "frames.joblib"
    train(compose(["tracking=off", "data=jsonl", f"data.path={data}",
                   "data.group_column=outlet",
                   "data.tasks=[{name: frame, labels: [conflict, economic, human]}]",
                   "features=ngrams", "model=logreg", "eval.n_boot=0",
                   f"output.model_path={path}"]))
    return path


def _renamed_tasks(pair, folder: Path) -> Path:
    """A's out-of-fold predictions with its tasks renamed (the same units, no task of B)."""
    text = predictions_path(pair[2]).read_text()
    folder.mkdir()
    (folder / "oof_predictions.jsonl").write_text(
        text.replace('"theme_', '"topic_').replace('"tone_', '"stance_'))
    return folder


@pytest.mark.parametrize("case", ["not a model", "no shared units", "no shared task",
                                  "other gold", "no predictions", "neither", "report suffix"])
def test_bad_input_is_one_line_and_exit_2(pair, other_corpus_model, case, tmp_path, capsys):
    tmp, uri, a, b, run_a, run_b = pair
    if case == "not a model":
        (tmp_path / "x.joblib").write_text("not a model\n")
        args, want = [str(tmp_path / "x.joblib"), str(b)], "x.joblib"
    elif case == "no shared units":
        args, want = [str(a), str(other_corpus_model)], "share no unit"
    elif case == "no shared task":
        args, want = [str(_renamed_tasks(pair, tmp_path / "renamed")), str(b)], \
            "share no task"
    elif case == "other gold":
        rows = [json.loads(x) for x in predictions_path(a).read_text().splitlines()]
        rows[3]["tone_true"] = "promotional" if rows[3]["tone_true"] != "promotional" \
            else "reportorial"
        args, want = [str(write_jsonl(tmp_path / "p.jsonl", rows)), str(b)], \
            f"(e.g. {rows[3]['id']!r}) has other gold labels of task 'tone'"
    elif case == "no predictions":
        framing.load(a).save(tmp_path / "m.joblib")  # no predictions beside it
        args, want = [str(tmp_path / "m.joblib"), str(b), "--uri",
                      f"sqlite:///{tmp_path / 'none.db'}"], "no out-of-fold predictions"
    elif case == "neither":
        args, want = ["nothing-here", str(b)], "not an MLflow run id"
    else:
        args, want = [str(a), str(b), "-o", str(tmp_path / "r.txt")], "give a .md, .html"
    assert cli.main(["compare", *args]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("framing: error: ") and want in lines[0], \
        captured.err
    assert captured.out == "" and not (tmp_path / "r.txt").exists()
