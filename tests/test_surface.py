"""The researcher's day: model names and overwrites, what a run prints, predicting CSV,
MLflow's view of the runs, sweeps, --help, --version, info, data folders, the wheel."""

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

import framing

from conftest import ROOT, SEEDS, run_cli, write_jsonl

EXE = Path(sys.executable).parent


def corpus(path: Path, n: int = 30, tasks=("frame",)) -> Path:
    rows = []
    for i in range(n):
        frame = ["conflict", "economic", "human"][i % 3]
        rows.append({"id": f"f{i}", "outlet": f"o{i % 3}", "frame": frame,
                     "topics": [["health"], ["crime"], []][i % 3],
                     "text": f"{frame} words {frame} item {i}"})
    return write_jsonl(path, rows)


FRAME = "{name: frame, labels: [conflict, economic, human]}"
TOPICS = "{name: topics, kind: multilabel, labels: [health, crime]}"


def train(home: Path, *args):
    env = {**os.environ, "FRAMING_HOME": str(home)}
    r = subprocess.run([str(EXE / "framing-train"), *args, "eval.n_boot=0"], cwd=home,
                       env=env, capture_output=True, text=True, timeout=600)
    return r.returncode, r.stdout + r.stderr


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("home")


def test_models_are_named_by_what_made_them_and_print_how_to_use_them(home):
    code, out = train(home, "experiment=char_ngrams")
    assert code == 0, out[-2000:]
    path = home / "models" / "char_ngrams.joblib"
    assert path.is_file() and (home / "models" / "char_ngrams.card.md").is_file()
    assert f"model: {path}" in out
    assert f"framing predict {path} FILE.jsonl" in out
    run_id = framing.load(path).card["mlflow_run_id"]
    assert f"MLflow run: {run_id} (experiment 'framing/seeds'" in out
    model_id = out.split("MLflow model: models:/")[1].split()[0]
    assert f"MLFLOW_TRACKING_URI=sqlite:///{home / 'mlflow.db'} mlflow models serve -m " \
           f"models:/{model_id}" in out
    client = MlflowClient(f"sqlite:///{home / 'mlflow.db'}")
    run = client.get_run(run_id)
    assert run.info.run_name == "char_ngrams eval.n_boot=0"
    assert "objective" in run.data.metrics
    exp = client.get_experiment(run.info.experiment_id)
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"
    logged = client.search_logged_models(experiment_ids=[exp.experiment_id])
    assert [m.name for m in logged] == ["char_ngrams"]


def test_another_file_on_the_seed_config_is_its_own_corpus(home):
    # data.path alone keeps the seeds' tasks, but the corpus, and so its model and
    # MLflow experiment, are named after the file: the seeds' model stays as it was
    lines = (SEEDS / "paragraphs.jsonl").read_text().splitlines()[:45]
    other = home / "other_articles.jsonl"
    other.write_text("\n".join(lines) + "\n")
    code, out = train(home, f"data.path={other}", "tracking=off")
    assert code == 0, out[-2000:]
    assert "corpus other_articles: 45 records" in out
    assert (home / "models" / "other_articles.joblib").is_file()
    assert not (home / "models" / "framing.joblib").exists()


def printed_model(out: str) -> Path:
    """The model a run says it wrote (``model: PATH``)."""
    return Path(re.search(r" - model: (\S+)", out).group(1))


def test_a_model_of_another_corpus_is_not_replaced(home):
    c = corpus(home / "frames.jsonl")
    # a fixed model (the choice is not what is tested): five runs in seconds each
    args = ["data=jsonl", f"data.path={c}", "tracking=off", "features=ngrams", "model=logreg"]
    code, out = train(home, *args, f"data.tasks=[{FRAME}]")
    assert code == 0, out[-2000:]
    path = printed_model(out)  # features=ngrams: named by its configuration too
    assert path.parent == home / "models" and path.name.startswith("frames-")
    assert framing.load(path).tasks == ["frame"]
    # another task set at the default path: written beside, the first one kept
    code, out = train(home, *args, "data.group_column=outlet",
                      f"data.tasks=[{FRAME}, {TOPICS}]")
    assert code == 0, out[-2000:]
    beside = printed_model(out)
    assert beside != path and framing.load(beside).tasks == ["frame", "topics"]
    assert framing.load(path).tasks == ["frame"]
    # at a path the user names, a model of another task set stops the run before training
    named = [*args, f"output.model_path={path}"]
    code, out = train(home, *named, f"data.tasks=[{FRAME}, {TOPICS}]")
    assert code == 2 and f"{path} holds a model of corpus 'frames' (tasks frame); this run " \
                         "trains on 'frames' (tasks frame, topics)" in out
    assert "output.overwrite=true" in out and framing.load(path).tasks == ["frame"]
    code, out = train(home, *named, f"data.tasks=[{FRAME}, {TOPICS}]", "output.overwrite=true")
    assert code == 0 and framing.load(path).tasks == ["frame", "topics"]
    assert "; it replaces a model of another configuration (data.tasks)" in out
    # one experiment per corpus in MLflow
    code, out = train(home, "data=jsonl", f"data.path={c}", f"data.tasks=[{FRAME}]",
                      "features=ngrams", "model=logreg",
                      f"output.model_path={home / 'other.joblib'}")
    assert code == 0, out[-2000:]
    client = MlflowClient(f"sqlite:///{home / 'mlflow.db'}")
    assert client.get_experiment_by_name("framing/frames") is not None


def test_a_sweep_ends_ranked_and_marks_its_best_child(home):
    code, out = train(home, "-m", "model=logreg", "model.C=0.01,1",
                      f"hydra.sweep.dir={home / 'sweep'}")
    assert code == 0, out[-2000:]
    ranking = out.split("sweep results, best first")[1].splitlines()[1:3]
    values = [float(line.split()[0]) for line in ranking]
    assert values == sorted(values, reverse=True)
    # the best job's margin over the runner-up, paired over the articles of both jobs'
    # out-of-fold predictions (each job wrote its own into its folder)
    jobs = [line.split()[1] for line in ranking]
    assert all((home / "sweep" / j.lstrip("#") / "framing.oof.jsonl").is_file() for j in jobs)
    best_line = next(x for x in out.splitlines() if x.startswith("best: "))
    head, margin = best_line.split(" by ")
    assert head == f"best: job {jobs[0]} (objective {values[0]:.4f}), over the runner-up " \
                   f"(job {jobs[1]})"
    diff, what, low, high = margin.replace("mean macro-F1", "mean-macro-F1").split()[:4]
    assert what == "mean-macro-F1" and float(diff) == pytest.approx(values[0] - values[1], abs=2e-4)
    assert float(low.strip("[,")) <= float(diff) <= float(high.strip("],*"))
    assert "% of 1000 paired draws over articles (worse in " in margin
    client = MlflowClient(f"sqlite:///{home / 'mlflow.db'}")
    exp = client.get_experiment_by_name("framing/seeds")
    parent, = client.search_runs([exp.experiment_id], "tags.`framing.role` = 'sweep'")
    best = client.get_run(parent.data.tags["framing.best_run_id"])
    assert parent.data.metrics["best_objective"] == pytest.approx(values[0], abs=1e-4)
    assert best.data.metrics["objective"] == parent.data.metrics["best_objective"]
    assert parent.data.metrics["theme/macro_f1"] == best.data.metrics["theme/macro_f1"]
    assert parent.data.params["model.C"] == best.data.params["model.C"]
    assert parent.data.metrics["best_margin"] == pytest.approx(float(diff), abs=1e-4)
    assert parent.data.metrics["best_margin/win_share"] == pytest.approx(
        float(margin.split("better in ")[1].split("%")[0]) / 100, abs=0.006)
    path = out.split("best model: ")[1].split()[0]  # the best job's model, to use at once
    assert framing.load(path).card["mlflow_run_id"] == best.info.run_id


def test_nothing_is_created_before_the_config_is_valid(tmp_path):
    code, out = train(tmp_path, "eval.n_splits=1")
    assert code == 2 and "eval.n_splits: 1 is too small" in out
    assert list(tmp_path.iterdir()) == []


def test_predict_reads_csv_and_tsv_by_header_and_keeps_ids(tiny, tmp_path):
    (tmp_path / "in.csv").write_text('uid,body\nu1,"goal, team"\nu2,vote law\n')
    (tmp_path / "in.tsv").write_text("id\ttext\nt1\tgoal team\n")
    code, out, err = run_cli("framing", "predict", tiny, tmp_path / "in.csv", "--text-column",
                             "body", "--id-column", "uid")
    recs = [json.loads(x) for x in out.splitlines()]
    assert code == 0 and [r["uid"] for r in recs] == ["u1", "u2"]
    assert recs[0] == {"uid": "u1", **framing.load(tiny).predict("goal, team")}
    code, out, err = run_cli("framing", "predict", tiny, tmp_path / "in.tsv")
    assert code == 0 and json.loads(out)["id"] == "t1"
    code, out, err = run_cli("framing", "predict", tiny, tmp_path / "in.csv")
    assert code == 2 and "no column 'text' in the header (columns: ['uid', 'body'])" in err


def test_progress_shows_the_total(tiny, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": "goal"}] * 30)
    code, out, err = run_cli("framing", "predict", tiny, src, "--progress",
                             "--batch-size", "10")
    assert code == 0 and "30/30" in err


def test_python_predict_in_batches_with_progress(tiny, capsys):
    model = framing.load(tiny)
    texts = ["goal team", "vote law", ""] * 7
    assert model.predict(texts, batch_size=4, progress=True) == model.predict(texts)
    assert "21/21" in capsys.readouterr().err
    with pytest.raises(ValueError, match="batch_size must be a positive whole number"):
        model.predict(texts, batch_size=0)


def test_version_info_and_help():
    code, out, _ = run_cli("framing", "--version")
    assert code == 0 and out.strip() == f"framing {framing.__version__}"
    code, out, _ = run_cli("framing", "info")
    assert code == 0 and "scikit-learn" in out and "MLflow store: sqlite:///" in out
    assert "shipped models: subjectivity" in out
    code, out, _ = run_cli("framing-train", "--help")
    assert code == 0 and out.startswith("framing-train: evaluate a text classifier")
    # every option the help names exists, and every option but the benchmarks is named
    groups = {}
    for line in out.split("Config groups")[1].split("Examples:")[0].splitlines()[1:]:
        if line.startswith("  ") and not line.startswith("   "):
            name = line.split()[0]
            groups[name] = line
        elif line.startswith("     ") and name in groups:
            groups[name] += line
    for group in ("data", "test", "features", "model", "eval", "tracking", "codebook"):
        named = {w for w in groups[group].split()[1:] if w.isidentifier()}
        files = {p.stem for p in (ROOT / "conf" / group).glob("*.yaml")}
        assert files - {"cr", "mpqa", "mr", "subj"} <= named, group
        assert {w for w in named if w in files} <= files


def test_a_single_saved_dataset_folder_loads(tmp_path):
    import datasets

    from framing.data.corpus import load_corpus

    rows = [json.loads(x) for x in (SEEDS / "paragraphs.jsonl").read_text().splitlines()]
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "one"))
    c = load_corpus({"source": "hub", "path": str(tmp_path / "one"), "group_column": "article",
                     "tasks": [{"name": "tone", "labels": ["promotional", "reportorial"]}]})
    assert len(c) == 55 and c.split is None


def test_another_label_set_switches_the_news_knowledge_off_and_says_so():
    texts = ["match goal team", "minister vote law"] * 8
    _, report = framing.fit(texts, ["sport", "politics"] * 8, overrides=["eval.n_boot=0"])
    notes = " ".join(report.notes)
    assert "codebook features are off" in notes and "experiment=text_classifier" in notes
    assert "the sentence tone rule is off" in notes


@pytest.mark.slow
def test_the_wheel_trains_anywhere_with_its_own_seeds(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    wheel = next(tmp_path.glob("framing-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "framing/seeds/paragraphs.jsonl" in names
    assert "framing/resources/subjectivity.joblib" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {"PYTHONPATH": str(site), "PATH": f"{EXE}:/usr/bin:/bin", "HOME": str(tmp_path)}
    launch = ("import sys; from framing.cli.train import main; sys.argv = ['framing-train'] + "
              "sys.argv[1:]; main()")
    bad = subprocess.run([sys.executable, "-c", launch, "eval.n_splits=1"], cwd=work,
                         env=env, capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2 and list(work.iterdir()) == []
    ok = subprocess.run([sys.executable, "-c", launch, "eval.n_boot=0", "tracking=off"],
                        cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert ok.returncode == 0, ok.stderr[-2000:]
    model = framing.load(work / "models" / "framing.joblib")
    assert model.card["data"]["n_records"] == 55
    assert str(site) in model.card["data"]["source"]
