"""Interrupted and killed processes, and a tracking server that dies: one line, the right
exit status, no temporary files, runs marked, no stray workers, the model kept."""

import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

import framing

from conftest import run_cli, write_jsonl

EXE = Path(sys.executable).parent


def train_cli(tmp_path, *args, fault=None, env=None, store="store.db"):
    """framing-train on the seeds with outputs under tmp_path; (code, stderr)."""
    env = {**os.environ, **(env or {}), "FRAMING_FAULT": fault or ""}
    r = subprocess.run([str(EXE / "framing-train"), "eval.n_boot=0",
                        f"tracking.uri=sqlite:///{tmp_path / store}",
                        f"tracking.artifact_location={tmp_path / 'art'}",
                        f"output.model_path={tmp_path / 'm.joblib'}",
                        f"hydra.run.dir={tmp_path / 'run'}", *args],
                       capture_output=True, text=True, env=env, timeout=600)
    return r.returncode, r.stderr


def statuses(tmp_path, store="store.db"):
    client = MlflowClient(f"sqlite:///{tmp_path / store}")
    exp = client.get_experiment_by_name("framing/seeds")
    return [r.info.status for r in client.search_runs([exp.experiment_id],
                                                      order_by=["attributes.start_time"])
            if r.data.tags.get("framing.role") != "baseline"]


@pytest.mark.parametrize("how, code, word, status", [
    ("int", 130, "interrupted", "KILLED"), ("term", 143, "terminated", "KILLED")],
    ids=["Ctrl-C", "SIGTERM"])
def test_an_interrupted_training_is_one_line_and_its_run_is_marked(tmp_path, how, code, word,
                                                                   status):
    # the model is written, not yet published: an interrupted run publishes nothing
    rc, err = train_cli(tmp_path, fault=f"train.saved:{how}")
    assert rc == code and "Traceback" not in err
    assert error_lines(err) == [f"framing-train: error: {word}; no model is written "
                                f"({tmp_path / 'm.joblib'} does not exist)"]
    assert statuses(tmp_path) == [status]
    assert sorted(p.name for p in tmp_path.iterdir() if "m.joblib" in p.name) == []


# What the tests below add to make the run quicker (the model is not what they check).
QUICK = ["model=logreg", "features=ngrams", "eval.label_issues=off"]


def error_lines(err: str) -> list[str]:
    return [x for x in err.splitlines() if x.startswith("framing-train:")]


def old_model(tiny, tmp_path) -> tuple[Path, bytes]:
    """A model already at tmp_path/m.joblib (of another corpus: the runs replace it with
    output.overwrite=true); its path and bytes."""
    import shutil

    path = tmp_path / "m.joblib"
    shutil.copy2(tiny, path)
    shutil.copy2(f"{tiny}.sha256", f"{path}.sha256")
    return path, path.read_bytes()


@pytest.mark.parametrize("how, code, word", [("int", 130, "interrupted"),
                                             ("term", 143, "terminated")],
                         ids=["Ctrl-C", "SIGTERM"])
def test_an_interrupt_while_the_run_is_logged_keeps_the_old_model(tiny, tmp_path, how, code,
                                                                  word):
    path, before = old_model(tiny, tmp_path)
    objective = framing.load(path).card["evaluation"]["metrics"]["objective"]
    rc, err = train_cli(tmp_path, *QUICK, "output.overwrite=true",
                        fault=f"track.logging:{how}")
    assert rc == code and "Traceback" not in err
    assert error_lines(err) == [f"framing-train: error: {word}; this run's model is not "
                                f"written; {path} stays as it was (objective {objective:.4f})"]
    assert path.read_bytes() == before and framing.load(path, verify="strict")
    assert statuses(tmp_path) == ["KILLED"]
    assert not list(tmp_path.glob(".m.joblib.*"))  # no staged model left behind


@pytest.mark.parametrize("step", ["train.published", "train.end"],
                         ids=["after publication", "at the very end"])
def test_an_interrupt_after_the_run_has_ended_names_the_model_that_stands(tiny, tmp_path,
                                                                          step):
    path, before = old_model(tiny, tmp_path)
    rc, err = train_cli(tmp_path, *QUICK, "output.overwrite=true", fault=f"{step}:int")
    assert rc == 130 and "Traceback" not in err
    model = framing.load(path, verify="strict")
    objective = model.card["evaluation"]["metrics"]["objective"]
    assert error_lines(err) == [f"framing-train: error: interrupted; the run had ended: "
                                f"{path} is its model (objective {objective:.4f})"]
    assert path.read_bytes() != before and model.tasks == ["theme", "tone"]
    assert statuses(tmp_path) == ["FINISHED"]
    client = MlflowClient(f"sqlite:///{tmp_path / 'store.db'}")
    assert client.get_run(model.card["mlflow_run_id"]).info.status == "FINISHED"


def test_a_run_killed_with_sigkill_is_marked_killed_by_the_next_start(tmp_path):
    rc, _ = train_cli(tmp_path, fault="train.saved:kill")
    assert rc == -9 and statuses(tmp_path) == ["RUNNING"]
    assert not (tmp_path / "m.joblib").exists()  # staged, never published
    assert len(list(tmp_path.glob(".m.joblib.*.staged"))) == 1
    rc, err = train_cli(tmp_path)
    assert rc == 0, err[-2000:]
    assert statuses(tmp_path) == ["KILLED", "FINISHED"]
    assert framing.load(tmp_path / "m.joblib", verify="strict")
    assert not list(tmp_path.glob(".m.joblib.*.staged"))  # the next run clears it


@pytest.mark.parametrize("how, code, word", [("term", 143, "terminated"),
                                             ("int", 130, "interrupted")])
def test_an_interrupted_prediction_leaves_no_file(tiny, tmp_path, how, code, word):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": f"r{i}", "text": "goal"}
                                              for i in range(50)])
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "FRAMING_FAULT": f"output.written:{how}"}
    rc, _, err = run_cli("framing", "predict", tiny, src, "-o", out, env=env)
    assert rc == code and f"framing: error: {word}" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def _processes_with(marker: str) -> list[int]:
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if marker.encode() in (d / "environ").read_bytes():
                found.append(int(d.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
def test_parallel_workers_die_with_a_killed_training(tmp_path):
    marker = f"FRAMING_TEST_MARK={uuid.uuid4()}"
    rc, _ = train_cli(tmp_path, "eval.n_jobs=2", "tracking=off", fault="publish.written:kill",
                      env={"FRAMING_TEST_MARK": marker.split("=", 1)[1]})
    assert rc == -9
    deadline = time.monotonic() + 20
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_with(marker) == []


class _DyingServer(http.server.BaseHTTPRequestHandler):
    """Answers the health check, then drops every other request: a server going down."""

    def do_GET(self):  # noqa: N802 - the handler API
        if self.path.startswith("/health"):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"OK")
            return
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    do_POST = do_GET  # noqa: N815

    def log_message(self, *args):
        pass


def test_a_tracking_server_that_dies_costs_seconds_and_keeps_the_model(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _DyingServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    uri = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        t0 = time.monotonic()
        r = subprocess.run([str(EXE / "framing-train"), "eval.n_boot=0", "tracking=server",
                            f"tracking.uri={uri}", f"output.model_path={tmp_path / 'm.joblib'}",
                            f"hydra.run.dir={tmp_path / 'run'}"], capture_output=True,
                           text=True, timeout=600)
        elapsed = time.monotonic() - t0
    finally:
        server.shutdown()
    assert r.returncode == 2 and "Traceback" not in r.stderr
    line = [x for x in r.stderr.splitlines() if x.startswith("framing-train: error:")]
    assert len(line) == 1 and f"cannot use the MLflow store {uri}" in line[0]
    assert f"The model is written to {tmp_path / 'm.joblib'} all the same" in line[0]
    assert framing.load(tmp_path / "m.joblib", verify="strict").card["mlflow_run_id"] is None
    assert elapsed < 90


def test_a_store_locked_by_another_program_is_one_line(tmp_path):
    import sqlite3

    db = tmp_path / "locked.db"
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("create table other(a)")
    con.execute("BEGIN EXCLUSIVE")
    try:
        rc, err = train_cli(tmp_path, "output.write_model=false", store="locked.db")
    finally:
        con.close()
    assert rc == 2 and "another program holds a lock on it" in err and "Traceback" not in err
