import json
import sys
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

import framing
from framing.cli.train import train
from framing.core.errors import TrackingError

from conftest import SEEDS, framing_copy, run_cli, run_copy


def runs_of(db):
    client = MlflowClient(f"sqlite:///{db}")
    exp = client.get_experiment_by_name("framing/seeds")
    return client, [r for r in client.search_runs([exp.experiment_id])
                    if r.data.tags.get("framing.role") != "baseline"]


@pytest.fixture(scope="module")
def tracked_run(tmp_path_factory):
    from conftest import compose

    tmp = tmp_path_factory.mktemp("tracked")
    cfg = compose(tmp, ["eval.n_boot=50"], tracking="sqlite")
    train(cfg)
    client, runs = runs_of(tmp / "mlflow.db")
    assert len(runs) == 1
    return tmp, cfg, client, runs[0]


def test_run_has_params_metrics_and_tags(tracked_run):
    tmp, cfg, client, run = tracked_run
    p, m, t = run.data.params, run.data.metrics, run.data.tags
    assert p["features.word.ngram_range"] == "[1, 2]"
    assert p["model.family"] == "auto" and p["data.group_column"] == "article"
    assert len(p["codebook.digest"]) == 16
    for key in ("theme/macro_f1", "theme/macro_f1/ci_low", "theme/macro_f1/ci_high",
                "theme/security/f1", "theme/gaza/precision", "tone/macro_f1", "tone/accuracy",
                "tone/roc_auc", "tone/log_loss", "time/fit_seconds", "time/eval_seconds"):
        assert key in m, key
    # the baselines' figures are in runs of their own, named after the model's metrics
    assert not [k for k in m if "baseline" in k]
    base = {client.get_run(i).info.run_name: client.get_run(i)
            for i in t["framing.baseline_runs"].split(",")}
    assert set(base) == {"baseline: codebook", "baseline: majority"}
    for b in base.values():
        assert b.info.status == "FINISHED" and "mlflow.parentRunId" not in b.data.tags
        assert {"theme/macro_f1", "tone/macro_f1", "tone/accuracy"} <= set(b.data.metrics)
        assert b.data.tags["framing.data_digest"] == t["framing.data_digest"]
    assert base["baseline: majority"].data.metrics["tone/macro_f1"] < m["tone/macro_f1"]
    model = framing.load(cfg.output.model_path)
    assert m["theme/macro_f1"] == pytest.approx(model.card["evaluation"]["metrics"]
                                                ["theme/macro_f1"])
    assert t["framing.version"] == framing.__version__
    assert t["framing.data_digest"] == model.card["data"]["digest"]
    assert model.card["mlflow_run_id"] == run.info.run_id


def test_run_has_artifacts(tracked_run):
    tmp, cfg, client, run = tracked_run
    top = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config.yaml", "codebook.yaml", "cues.yaml", "report.csv", "report.json",
            "oof_predictions.jsonl", "top_features.json", "MODEL_CARD.md", "plots"} <= top
    assert "predictor" not in top  # the model file is stored once, in the MLflow model
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/confusion_theme.png", "plots/f1_tone.png",
            "plots/reliability_theme.png"} <= plots
    logged, = mlflow.search_logged_models(experiment_ids=[run.info.experiment_id],
                                          output_format="list")
    stored = {a.path for a in
              client.list_logged_model_artifacts(logged.model_id, "data/bundle")}
    assert {"data/bundle/framing.joblib", "data/bundle/framing.joblib.sha256"} <= stored
    local = client.download_artifacts(run.info.run_id, "oof_predictions.jsonl", str(tmp))
    rows = [json.loads(x) for x in Path(local).read_text().splitlines()]
    assert len(rows) == 55 and {"theme_true", "theme_pred", "tone_scores"} <= set(rows[0])


def test_run_has_dataset_input(tracked_run):
    _, _, _, run = tracked_run
    (ds,) = run.inputs.dataset_inputs
    assert ds.dataset.name == "seeds"
    assert ds.dataset.digest == run.data.tags["framing.data_digest"][:32]
    assert "paragraphs.jsonl" in ds.dataset.source
    assert {t.key: t.value for t in ds.tags}.get("mlflow.data.context") == "training"


def test_logged_model_loads_as_pyfunc_and_predicts(tracked_run):
    tmp, cfg, client, run = tracked_run
    mlflow.set_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")
    models = mlflow.search_logged_models(experiment_ids=[run.info.experiment_id],
                                        output_format="list")
    assert len(models) == 1 and models[0].source_run_id == run.info.run_id
    pyfunc = mlflow.pyfunc.load_model(models[0].model_uri)
    texts = ["Iran and Pakistan agreed to expand trade.", "Gaza was bombed."]
    out = pyfunc.predict(pd.DataFrame({"text": texts}))
    direct = framing.load(cfg.output.model_path).predict(texts)
    assert list(out["tone"]) == [d["tone"] for d in direct]
    assert [list(x) for x in out["theme"]] == [d["theme"] for d in direct]
    assert out["tone/promotional"].tolist() == pytest.approx(
        [d["scores"]["tone"]["promotional"] for d in direct])
    sig = pyfunc.metadata.signature
    assert sig.inputs.input_names() == ["text"]
    assert "theme/security" in sig.outputs.input_names()


def test_unreachable_server_fails_fast_before_training(cfg_factory):
    cfg = cfg_factory(["tracking=server", "tracking.uri=http://127.0.0.1:9"])
    with pytest.raises(TrackingError, match="tracking server http://127.0.0.1:9 is unreachable"):
        train(cfg)
    assert not Path(cfg.output.model_path).exists()


@pytest.mark.parametrize("layout", ["installed", "checkout"])
def test_the_store_is_written_at_the_project_root_when_run_from_another_folder(tmp_path,
                                                                               layout):
    # The project root: a source checkout, wherever the command is started; an installed
    # package knows no checkout, so the folder the command is started in (even when Hydra
    # runs the job in its own folder). The models go to the folder run from in both.
    path_entry = framing_copy(tmp_path, layout)
    work = tmp_path / "work"
    work.mkdir()
    root = work if layout == "installed" else tmp_path / "clone"
    code, _, err = run_copy(path_entry, "framing-train", "experiment=ngrams_only",
                            "eval.n_boot=0", "eval.label_issues=off", "tracking=sqlite",
                            "tracking.log_model=false", "hydra.job.chdir=true", cwd=work)
    assert code == 0, err[-3000:]
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("mlflow.db")) == [
        (root / "mlflow.db").relative_to(tmp_path)]
    assert (root / "mlartifacts").is_dir() and list((root / "outputs").glob("*/*/.hydra"))
    _, runs = runs_of(root / "mlflow.db")
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    assert (work / "models" / "ngrams_only.joblib").is_file()
    # framing info, started in the same folder, names that store
    code, out, _ = run_copy(path_entry, "framing", "info", cwd=work)
    assert code == 0 and f"MLflow store: sqlite:///{root / 'mlflow.db'}\n" in out


def sweep(tmp_path, *overrides):
    """Run a sweep into one store; (output, its sweep parent runs, its child runs)."""
    db = tmp_path / "mlflow.db"
    code, out, err = run_cli(
        "framing-train", "-m", *overrides, "eval.n_boot=20", f"tracking.uri=sqlite:///{db}",
        f"tracking.artifact_location={tmp_path / 'art'}", f"hydra.sweep.dir={tmp_path / 'sw'}",
        f"output.model_path={tmp_path / 'm.joblib'}")
    assert code == 0, err[-3000:]
    _, runs = runs_of(db)
    parents = [r for r in runs if r.data.tags.get("framing.role") == "sweep"]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return out + err, parents, children


@pytest.mark.slow
def test_parallel_sweep_gives_a_parent_with_every_child(tmp_path):
    _, parents, children = sweep(tmp_path, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                                 "model.C=0.1,1,10,100")
    assert len(parents) == 1 and len(children) == 4
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parents[0].info.run_id}
    assert sorted(float(r.data.params["model.C"]) for r in children) == [0.1, 1, 10, 100]
    assert all(r.info.status == "FINISHED" and "theme/macro_f1" in r.data.metrics
               for r in children)
    assert sorted(r.info.run_name for r in children)[0].startswith("default model.C=")
    # four jobs on one corpus: its baselines are logged once, and every job names them
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    exp = client.get_experiment_by_name("framing/seeds")
    base = client.search_runs([exp.experiment_id], "tags.`framing.role` = 'baseline'")
    assert sorted(r.info.run_name for r in base) == ["baseline: codebook", "baseline: majority"]
    assert {r.data.tags["framing.baseline_runs"] for r in children} == {
        ",".join(sorted((r.info.run_id for r in base),
                        key=lambda i: client.get_run(i).info.run_name))}


@pytest.mark.slow
def test_submitit_sweep_logs_every_job_to_one_store(tmp_path):
    """hydra/launcher=submitit_local runs each job as its own submitted process (as
    submitit_slurm does on a cluster); every job logs to the one store given."""
    import importlib.util

    if importlib.util.find_spec("hydra_plugins.hydra_submitit_launcher") is None:
        pytest.skip("the cluster extra (hydra-submitit-launcher) is not installed: "
                    "pip install 'framing[cluster]'")
    output, parents, children = sweep(tmp_path, "hydra/launcher=submitit_local",
                                      "hydra.launcher.timeout_min=20", "model.C=0.1,1")
    assert "Submitit 'local' sweep output dir" in output
    assert list((tmp_path / "sw" / ".submitit").glob("*/*_result.pkl"))  # submitted jobs
    assert len(parents) == 1 and len(children) == 2
    assert sorted(float(r.data.params["model.C"]) for r in children) == [0.1, 1]
    assert "sweep results, best first" in output
    assert parents[0].data.tags["framing.best_run_id"] in {r.info.run_id for r in children}
    assert "best_objective" in parents[0].data.metrics


def _java_major() -> int | None:
    """The major version of the Java runtime on PATH, or None."""
    import re
    import shutil
    import subprocess

    if shutil.which("java") is None:
        return None
    r = subprocess.run(["java", "-version"], capture_output=True, text=True)
    m = re.search(r'version "(?:1\.)?(\d+)', r.stderr + r.stdout)
    return int(m.group(1)) if m else None


SPARK_SCRIPT = """
import json, sys
import mlflow
from pyspark.sql import SparkSession

mlflow.set_tracking_uri(sys.argv[1])
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .getOrCreate())
df = spark.read.json(sys.argv[3])
label = mlflow.pyfunc.spark_udf(spark, sys.argv[2], env_manager="local")
out = df.withColumn("framing", label("text")).select("id", "framing.*")
print(json.dumps({"schema": out.schema.jsonValue(),
                  "rows": [r.asDict() for r in out.orderBy("id").collect()]}))
spark.stop()
"""


@pytest.mark.slow
def test_spark_udf_labels_a_dataframe_as_the_model_does(tracked_run):
    """mlflow.pyfunc.spark_udf on the logged model, Spark in local mode: one struct column
    of labels and per-label scores, equal to the model's own predictions."""
    import importlib.util
    import os
    import subprocess
    import sys

    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed (the spark extra: pip install 'framing[spark]')")
    java = _java_major()
    if java is None or java < 17:
        pytest.skip(f"Spark 4 needs a Java 17+ runtime; found {java or 'none'} on PATH")
    tmp, cfg, client, run = tracked_run
    logged, = mlflow.search_logged_models(experiment_ids=[run.info.experiment_id],
                                          output_format="list")
    rows = [json.loads(x) for x in (SEEDS / "paragraphs.jsonl").read_text().splitlines()][:12]
    src = tmp / "spark_in.jsonl"
    src.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n"
                           for r in rows))
    r = subprocess.run([sys.executable, "-c", SPARK_SCRIPT, cfg.tracking.uri,
                        logged.model_uri, str(src)], capture_output=True, text=True,
                       timeout=600, env={**os.environ, "PYSPARK_PYTHON": sys.executable})
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    fields = {f["name"]: f["type"] for f in got["schema"]["fields"]}
    assert fields["theme"] == {"type": "array", "elementType": "string", "containsNull": True}
    assert fields["tone"] == "string" and fields["theme/gaza"] == "double"
    assert fields["tone/promotional"] == "double"
    model = framing.load(cfg.output.model_path)
    by_id = {x["id"]: x for x in got["rows"]}
    assert sorted(by_id) == sorted(x["id"] for x in rows)
    for x, want in zip(rows, model.predict([x["text"] for x in rows]), strict=True):
        have = by_id[x["id"]]
        assert have["theme"] == want["theme"] and have["tone"] == want["tone"]
        for label, score in want["scores"]["theme"].items():
            assert have[f"theme/{label}"] == pytest.approx(score, abs=1e-9)
        assert have["tone/promotional"] == pytest.approx(
            want["scores"]["tone"]["promotional"], abs=1e-9)


def test_ui_command_binds_loopback_by_default(monkeypatch, capsys):
    from framing.cli import main, ui

    seen = {}
    monkeypatch.setattr(ui, "serve", lambda cmd: seen.setdefault("cmd", cmd) and 0)
    assert main.main(["ui", "--port", "5999"]) == 0
    cmd = seen["cmd"]
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert "mlflow.db" in cmd[cmd.index("--backend-store-uri") + 1]
    assert "http://127.0.0.1:5999" in capsys.readouterr().out


@pytest.mark.slow
def test_ui_opens_runs_tables_and_stops_with_its_workers(tracked_run):
    import os
    import signal
    import socket
    import subprocess
    import time
    import urllib.request

    tmp, cfg, client, run = tracked_run
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("framing")
    ui = subprocess.Popen([str(exe), "ui", "--port", str(port), "--uri",
                           f"sqlite:///{tmp / 'mlflow.db'}"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        lines = [ui.stdout.readline() for _ in range(2)]
        exp = client.get_experiment(run.info.experiment_id)
        table = (f"http://127.0.0.1:{port}/#/experiments/{exp.experiment_id}"
                 "/runs?viewStateShareKey=framing")
        # the first line gives the runs table to open, not MLflow's start page
        assert lines[0].startswith(f"MLflow UI: open {table} ")
        assert f"{exp.name}: {table}" in lines[1]
        assert exp.tags["mlflow.experimentKind"] == "custom_model_development"
        view = json.loads(exp.tags["mlflow.sharedViewState.framing"])
        assert "metrics.`theme/macro_f1`" in view["selectedColumns"]
        assert "metrics.`objective`" in view["selectedColumns"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    break
            except OSError:
                time.sleep(1)
        group = os.getpgid(ui.pid)
        ui.send_signal(signal.SIGTERM)
        assert ui.wait(timeout=60) == 143  # stopped by SIGTERM, as every command
    finally:
        if ui.poll() is None:
            os.killpg(ui.pid, signal.SIGKILL)

    def alive():
        out = subprocess.run(["ps", "-o", "pid=", "-g", str(group)], capture_output=True,
                             text=True).stdout.split()
        return out
    deadline = time.monotonic() + 20
    while alive() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert alive() == []


@pytest.mark.slow
def test_mlflow_models_serve_answers_on_loopback(tracked_run):
    import socket
    import subprocess
    import time
    import urllib.request

    tmp, cfg, client, run = tracked_run
    mlflow.set_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")
    (model,) = mlflow.search_logged_models(experiment_ids=[run.info.experiment_id],
                                           output_format="list")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("mlflow")
    os_env = __import__("os").environ
    # The scoring server is started by name (uvicorn): the environment's bin on PATH, as
    # in an activated environment.
    env = {**os_env, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'mlflow.db'}",
           "PATH": f"{exe.parent}:{os_env.get('PATH', '')}"}
    elsewhere = tmp / "elsewhere"  # the printed command works from any folder
    elsewhere.mkdir(exist_ok=True)
    server = subprocess.Popen([str(exe), "models", "serve", "-m", model.model_uri,
                               "--env-manager", "local", "--host", "127.0.0.1", "-p",
                               str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, cwd=elsewhere)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read()[-2000:]
                time.sleep(1)
        body = json.dumps({"dataframe_split": {"columns": ["text"], "data": [
            ["Israel's strikes on Gaza were condemned by both leaders."]]}}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            out = json.loads(r.read())
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not (elsewhere / "mlflow.db").exists()
    (pred,) = out["predictions"]
    expected = framing.load(cfg.output.model_path).predict(
        "Israel's strikes on Gaza were condemned by both leaders.")
    assert pred["tone"] == expected["tone"] and pred["theme"] == expected["theme"]
    assert pred["theme/gaza"] == pytest.approx(expected["scores"]["theme"]["gaza"])


def test_hashing_features_train_track_and_explain(cfg_factory):
    cfg = cfg_factory(["features=hashing", "features.hashing.n_features=4096", "eval.n_boot=0"],
                      tracking="sqlite")
    train(cfg)
    model = framing.load(cfg.output.model_path)
    e = model.explain("Gaza was bombed again.", "theme", label="gaza", k=3)
    assert any(c["feature"].startswith("hashing__hash_") or c["feature"].startswith(
        "codebook__") for c in e["contributions"])
    _, runs = runs_of(Path(cfg.tracking.uri.removeprefix("sqlite:///")))
    assert runs[0].info.status == "FINISHED"


def test_a_run_says_where_its_time_went(tmp_path):
    """One INFO line of the phases (with DEBUG, each as it ends), the phases in MLflow."""
    db = tmp_path / "mlflow.db"
    code, out, err = run_cli("framing-train", "model=prior", "eval.n_boot=0", "log_level=DEBUG",
                           f"tracking.uri=sqlite:///{db}",
                           f"tracking.artifact_location={tmp_path / 'art'}",
                           f"output.model_path={tmp_path / 'm.joblib'}",
                           f"hydra.run.dir={tmp_path / 'run'}")
    assert code == 0, err[-2000:]
    err = out + err  # the run's log
    line = [x for x in err.splitlines() if "][INFO] - time: " in x]
    assert len(line) == 1, err[-3000:]
    phases, total = line[0].split("] - time: ")[1].rsplit("; ", 1)
    seconds = {}
    for part in phases.split(", "):
        name, value, unit = part.rsplit(" ", 2)
        assert unit == "s"
        seconds[name] = float(value)
    assert list(seconds)[:4] == ["start-up", "tracking store", "load", "evaluate"], line
    assert {"fit", "save", "log", "publish"} <= set(seconds), line
    assert total.endswith(" s in all")
    assert sum(seconds.values()) == pytest.approx(float(total.split()[0]), abs=0.1)
    assert all(v >= 0 for v in seconds.values())
    for name in ("load", "fit", "save", "log"):
        assert f"][DEBUG] - time: {name} " in err, name
    _, runs = runs_of(db)
    m = runs[0].data.metrics
    for name in ("load", "start_up", "tracking_store", "eval", "fit", "save"):
        assert m[f"time/{name}_seconds"] >= 0, name
    assert m["time/eval_seconds"] == pytest.approx(seconds["evaluate"], abs=0.01)
