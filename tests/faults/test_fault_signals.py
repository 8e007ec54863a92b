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
    rc, err = train_cli(tmp_path, fault=f"train.saved:{how}")
    assert rc == code and f"framing-train: error: {word}" in err and "Traceback" not in err
    assert statuses(tmp_path) == [status]


def test_a_run_killed_with_sigkill_is_marked_killed_by_the_next_start(tmp_path):
    rc, _ = train_cli(tmp_path, fault="train.saved:kill")
    assert rc == -9 and statuses(tmp_path) == ["RUNNING"]
    assert framing.load(tmp_path / "m.joblib", verify="strict")  # written before the kill
    rc, err = train_cli(tmp_path)
    assert rc == 0, err[-2000:]
    assert statuses(tmp_path) == ["KILLED", "FINISHED"]


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
