import json
import sys
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

import framing
from framing.errors import TrackingError
from framing.train import train

from conftest import run_cli


def runs_of(db):
    client = MlflowClient(f"sqlite:///{db}")
    exp = client.get_experiment_by_name("framing/seeds")
    return client, client.search_runs([exp.experiment_id])


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
    assert p["model.family"] == "prior" and p["data.group_column"] == "article"
    assert len(p["codebook.digest"]) == 16
    for key in ("theme/macro_f1", "theme/macro_f1/ci_low", "theme/macro_f1/ci_high",
                "theme/security/f1", "theme/gaza/precision", "tone/macro_f1", "tone/accuracy",
                "tone/roc_auc", "tone/log_loss", "baseline/majority/tone/macro_f1",
                "baseline/codebook/theme/macro_f1", "time/fit_seconds", "time/eval_seconds"):
        assert key in m, key
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
            "oof_predictions.jsonl", "top_features.json", "MODEL_CARD.md", "plots",
            "predictor"} <= top
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/confusion_theme.png", "plots/f1_tone.png",
            "plots/reliability_theme.png"} <= plots
    pred = {a.path for a in client.list_artifacts(run.info.run_id, "predictor")}
    assert "predictor/framing.joblib" in pred and "predictor/framing.joblib.sha256" in pred
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


@pytest.mark.slow
def test_parallel_sweep_gives_a_parent_with_every_child(tmp_path):
    db = tmp_path / "mlflow.db"
    code, out, err = run_cli(
        "framing-train", "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
        "model.C=0.1,1,10,100", "eval.n_boot=20", f"tracking.uri=sqlite:///{db}",
        f"tracking.artifact_location={tmp_path / 'art'}", f"hydra.sweep.dir={tmp_path / 'sw'}",
        f"output.model_path={tmp_path / 'm.joblib'}")
    assert code == 0, err[-3000:]
    client, runs = runs_of(db)
    parents = [r for r in runs if r.data.tags.get("framing.role") == "sweep"]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and len(children) == 4
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parents[0].info.run_id}
    assert sorted(float(r.data.params["model.C"]) for r in children) == [0.1, 1, 10, 100]
    assert all(r.info.status == "FINISHED" and "theme/macro_f1" in r.data.metrics
               for r in children)
    assert sorted(r.info.run_name for r in children)[0].startswith("default model.C=")


def test_ui_command_binds_loopback_by_default(monkeypatch, capsys):
    from framing import cli

    seen = {}
    monkeypatch.setattr(cli, "serve", lambda cmd: seen.setdefault("cmd", cmd) and 0)
    assert cli.main(["ui", "--port", "5999"]) == 0
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
        assert f"{exp.name}: http://127.0.0.1:{port}/#/experiments/{exp.experiment_id}" \
               "/runs?viewStateShareKey=framing" in lines[1]
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
        ui.wait(timeout=60)
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
