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


# What the tests add to make the run quicker (the model is not what they check).
QUICK = ["model=logreg", "features=ngrams", "eval.label_issues=off"]


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
    rc, err = train_cli(tmp_path, *QUICK, fault=f"train.saved:{how}")
    assert rc == code and "Traceback" not in err
    assert error_lines(err) == [f"framing-train: error: {word}; no model is written "
                                f"({tmp_path / 'm.joblib'} does not exist)"]
    assert statuses(tmp_path) == [status]
    assert sorted(p.name for p in tmp_path.iterdir() if "m.joblib" in p.name) == []


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
    rc, _ = train_cli(tmp_path, *QUICK, fault="train.saved:kill")
    assert rc == -9 and statuses(tmp_path) == ["RUNNING"]
    assert not (tmp_path / "m.joblib").exists()  # staged, never published
    assert len(list(tmp_path.glob(".m.joblib.*.staged"))) == 1
    rc, err = train_cli(tmp_path, *QUICK)
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
    rc, _ = train_cli(tmp_path, *QUICK, "eval.n_jobs=2", "tracking=off",
                      fault="publish.written:kill",
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
        r = subprocess.run([str(EXE / "framing-train"), *QUICK, "eval.n_boot=0", "tracking=server",
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


@pytest.mark.slow
def test_a_sweep_job_whose_process_dies_is_named_and_the_others_finish(tmp_path):
    """kill -9 of one job of a parallel sweep (the out-of-memory killer's way): the joblib
    launcher's pool lives on, the other job finishes, the summary says which did what,
    the dead job's run and the sweep's parent run are FAILED, one line names the job."""
    db = tmp_path / "store.db"
    r = subprocess.run([str(EXE / "framing-train"), "-m", "hydra/launcher=joblib",
                        "hydra.launcher.n_jobs=2", *QUICK, "eval.n_boot=0", "model.C=0.1,1",
                        f"tracking.uri=sqlite:///{db}",
                        f"tracking.artifact_location={tmp_path / 'art'}",
                        f"hydra.sweep.dir={tmp_path / 'sw'}",
                        f"output.model_path={tmp_path / 'm.joblib'}"],
                       capture_output=True, text=True, timeout=600,
                       env={**os.environ, "FRAMING_FAULT": "train.saved:kill@job=0"})
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-3000:]
    client = MlflowClient(f"sqlite:///{db}")
    exp = client.get_experiment_by_name("framing/seeds")
    [parent] = client.search_runs([exp.experiment_id], "tags.`framing.role` = 'sweep'")
    children = {r.info.run_name.split()[-1]: r for r in client.search_runs(
        [exp.experiment_id], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")}
    dead, alive = children["model.C=0.1"], children["model.C=1"]
    job = f"{' '.join(QUICK)} eval.n_boot=0 model.C=0.1"
    line = error_lines(r.stderr)
    assert line == [f"framing-train: error: sweep job #0 ({job} output.model_path="
                    f"{tmp_path / 'm.joblib'}) died: its process was killed by SIGKILL (the "
                    "system's out-of-memory killer sends it); its run "
                    f"{dead.info.run_id} is marked FAILED; the other jobs ran on (the summary "
                    f"above). Rerun it alone: framing-train {job} "
                    rf"tracking.uri=sqlite\:///{db} "
                    f"tracking.artifact_location={tmp_path / 'art'} "
                    f"output.model_path={tmp_path / 'm.joblib'}"]
    assert (dead.info.status, alive.info.status, parent.info.status) == (
        "FAILED", "FINISHED", "FAILED")
    summary = [x for x in r.stdout.splitlines() if x.startswith("  ")]
    assert summary[0].split()[1:2] == ["#1"] and alive.info.run_id in summary[0]
    assert summary[1].startswith("  died    #0") and "killed by SIGKILL" in summary[1]
    assert f"the sweep's parent run {parent.info.run_id} is marked FAILED" in r.stdout
    assert framing.load(tmp_path / "sw" / "1" / "m.joblib", verify="strict")
    assert not (tmp_path / "sw" / "0" / "m.joblib").exists()


def last_records(sweep_dir: Path) -> dict[int, dict]:
    """Each job's last record in the sweep's results.jsonl (where it stands)."""
    import json

    lines = (sweep_dir / "results.jsonl").read_text().splitlines()
    return {r["job"]: r for r in map(json.loads, lines)}


@pytest.mark.slow
def test_a_sweep_whose_launcher_loses_a_worker_names_the_jobs_it_lost(tmp_path):
    """kill -9 of a worker process of the joblib launcher's pool, not of a job's own
    process (job #0 kills its parent, the worker, with its model staged): the launcher
    stops the sweep. The line, the summary and results.jsonl name each job that did not
    finish or did not start, by number and overrides, with the command that reruns it;
    that command runs it; no run is left RUNNING."""
    import shlex

    db, sweep = tmp_path / "store.db", tmp_path / "sw"
    common = [*QUICK, "eval.n_boot=0", f"tracking.uri=sqlite:///{db}",
              f"tracking.artifact_location={tmp_path / 'art'}",
              f"output.model_path={tmp_path / 'm.joblib'}"]
    values = ["0.1", "1", "10"]
    r = subprocess.run([str(EXE / "framing-train"), "-m", "hydra/launcher=joblib",
                        "hydra.launcher.n_jobs=2", *common, f"model.C={','.join(values)}",
                        f"hydra.sweep.dir={sweep}"], capture_output=True, text=True,
                       timeout=600, env={**os.environ,
                                         "FRAMING_FAULT": "train.saved:kill-parent@job=0"})
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-3000:]
    # which jobs the other worker finished before the launcher stopped is the race of a
    # real death; job #0 never finishes
    finished = [n for n in range(3) if (sweep / str(n) / "m.joblib").is_file()]
    lost = [n for n in range(3) if n not in finished]
    assert lost[0] == 0
    started = [n for n in lost if (sweep / str(n)).is_dir()]  # Hydra made its folder
    assert 0 in started

    quoted = [rf"tracking.uri=sqlite\:///{db}" if o.startswith("tracking.uri=") else o
              for o in common]
    again = {n: " ".join(["framing-train", *quoted, f"model.C={values[n]}"]) for n in lost}
    records = last_records(sweep)
    for n in lost:
        assert records[n]["status"] == "lost" and records[n]["rerun"] == again[n]
        assert records[n]["started"] == (n in started)
    assert all(records[n]["status"] == "finished" for n in finished)

    def named(ns):
        return ", ".join(f"#{n} (model.C={values[n]})" for n in ns)

    parts = [f"job{'s' if len(ns) > 1 else ''} {named(ns)} {what}" for ns, what in (
        (started, "did not finish"), ([n for n in lost if n not in started], "did not start"))
        if ns]
    assert error_lines(r.stderr) == [
        "framing-train: error: a worker process of the sweep's launcher died (killed: the "
        "system's out-of-memory killer, say), and the launcher stopped the sweep (A worker "
        f"process managed by the executor was unexpectedly terminated): {' and '.join(parts)}"
        f"; they are marked lost in the summary above. Rerun {'them' if len(lost) > 1 else 'it'}"
        f": {'; '.join(again[n] for n in lost)}"]
    summary = [x for x in r.stdout.splitlines() if x.startswith("  ")]
    for n in lost:
        assert any(x.startswith(f"  lost    #{n}  ") and f"model.C={values[n]} " in x
                   for x in summary), summary
    for n in finished:
        assert any(x.split()[1:2] == [f"#{n}"] for x in summary), summary
        assert framing.load(sweep / str(n) / "m.joblib", verify="strict")

    client = MlflowClient(f"sqlite:///{db}")
    exp = client.get_experiment_by_name("framing/seeds")
    [parent] = client.search_runs([exp.experiment_id], "tags.`framing.role` = 'sweep'")
    assert parent.info.status == "FAILED"
    children = {r.info.run_name.split()[-1]: r.info.status for r in client.search_runs(
        [exp.experiment_id], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")}
    assert children["model.C=0.1"] == "KILLED" and "RUNNING" not in children.values()

    # the command the line gives reruns job #0 alone
    argv = shlex.split(again[0])
    rerun = subprocess.run([str(EXE / argv[0]), *argv[1:]], capture_output=True, text=True,
                           timeout=600, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    model = framing.load(tmp_path / "m.joblib", verify="strict")
    assert model.card["config"]["model"]["C"] == 0.1


def _group_members(group: int) -> list[int]:
    """The processes of process group ``group`` still running (Linux)."""
    found = []
    for d in Path("/proc").iterdir():
        try:
            if d.name.isdigit() and os.getpgid(int(d.name)) == group:
                state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":  # ended, not yet reaped
                    found.append(int(d.name))
        except (OSError, IndexError):
            continue
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
@pytest.mark.parametrize("when", ["job 0 has its model staged", "the jobs start"])
def test_ctrl_c_during_a_parallel_sweep_is_one_line_and_leaves_no_run_running(tmp_path,
                                                                              when):
    """Ctrl-C in a terminal reaches every process of the command: the parent, the
    joblib launcher's workers and each job's own process. The sweep ends with exit status
    130 and one line naming the jobs that did not finish or start, no traceback from
    any process; its parent run and the runs of the unfinished jobs are KILLED, none is
    left RUNNING; no model, staged model or temporary file is left of an unfinished job;
    no process of the command outlives it for long."""
    import signal

    db, sweep = tmp_path / "store.db", tmp_path / "sw"
    values = ["0.1", "1", "10"]
    env = dict(os.environ)
    if when == "job 0 has its model staged":  # the job sends Ctrl-C to its process group
        env["FRAMING_FAULT"] = "train.saved:int-group@job=0"
    cmd = subprocess.Popen(
        [str(EXE / "framing-train"), "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
         *QUICK, "eval.n_boot=0", f"model.C={','.join(values)}",
         f"tracking.uri=sqlite:///{db}", f"tracking.artifact_location={tmp_path / 'art'}",
         f"output.model_path={tmp_path / 'm.joblib'}", f"hydra.sweep.dir={sweep}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True)  # a group of its own, as a terminal's job
    try:
        if when == "the jobs start":  # both workers have recorded their job's start
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and cmd.poll() is None:
                results = sweep / "results.jsonl"
                if results.is_file() and results.read_text().count('"started"') >= 2:
                    break
                time.sleep(0.01)
            os.killpg(cmd.pid, signal.SIGINT)
        out, err = cmd.communicate(timeout=600)
    finally:
        if cmd.poll() is None:
            os.killpg(cmd.pid, signal.SIGKILL)
    assert cmd.returncode == 130, err[-3000:]
    assert "Traceback" not in err and "Process sweep job" not in err, err[-3000:]
    deadline = time.monotonic() + 30
    while _group_members(cmd.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _group_members(cmd.pid) == []

    finished = [n for n in range(3) if (sweep / str(n) / "m.joblib").is_file()]
    left = [n for n in range(3) if n not in finished]
    started = [n for n in left if (sweep / str(n)).is_dir()]  # Hydra made its folder
    assert left and (when != "job 0 has its model staged" or 0 in started)

    def named(ns):
        return ", ".join(f"#{n} (model.C={values[n]})" for n in ns)

    parts = [f"job{'s' if len(ns) > 1 else ''} {named(ns)} {what}" for ns, what in (
        (started, "did not finish"), ([n for n in left if n not in started], "did not start"))
        if ns]
    assert error_lines(err) == [
        f"framing-train: error: interrupted; the sweep stopped: {' and '.join(parts)} (the "
        f"summary above; {sweep / 'results.jsonl'} holds the command that reruns each)"]
    records = last_records(sweep)
    for n in left:
        assert records[n]["status"] == "stopped" and records[n]["started"] == (n in started)
        assert records[n]["rerun"].endswith(f"model.C={values[n]} tracking.uri=sqlite"
                                            rf"\:///{db} tracking.artifact_location="
                                            f"{tmp_path / 'art'} output.model_path="
                                            f"{tmp_path / 'm.joblib'}")
    summary = [x for x in out.splitlines() if x.startswith("  ")]
    for n in left:
        assert any(x.startswith(f"  stopped #{n}  ") and f"model.C={values[n]} " in x
                   for x in summary), summary

    # nothing half written: no model, staged model or temporary file of a job stopped
    assert not (tmp_path / "m.joblib").exists()
    for n in started:
        assert [p.name for p in (sweep / str(n)).iterdir()
                if "joblib" in p.name or "oof" in p.name] == []
    assert not list(sweep.rglob("*.staged")) and not list(sweep.rglob("*.tmp"))
    for n in finished:
        assert framing.load(sweep / str(n) / "m.joblib", verify="strict")

    if db.exists():
        client = MlflowClient(f"sqlite:///{db}")
        exp = client.get_experiment_by_name("framing/seeds")
        runs = client.search_runs([exp.experiment_id]) if exp else []
        assert [r.info.run_name for r in runs if r.info.status == "RUNNING"] == []
        for r in runs:
            if r.data.tags.get("framing.role") == "sweep":
                assert r.info.status == "KILLED"
            elif r.data.tags.get("framing.role") != "baseline":
                job = values.index(r.info.run_name.split()[-1].split("=")[1])
                assert r.info.status == ("FINISHED" if job in finished else "KILLED")
    if when == "job 0 has its model staged":  # its run was under way: it is KILLED
        assert any(r.info.status == "KILLED" and r.info.run_name.endswith("model.C=0.1")
                   for r in runs)


class _ServerThatDiesWhileLogging(http.server.BaseHTTPRequestHandler):
    """A real MLflow tracking server (MLflow's own app, in this process) that goes down
    at the run's first logging call (``runs/log-batch``): that request and every later
    one get their connection closed without an answer."""

    app = None  # MLflow's server app, a test client of it
    dead = False
    protocol_version = "HTTP/1.1"

    def _any(self):
        cls = type(self)
        if cls.dead or self.path.split("?")[0].endswith("/runs/log-batch"):
            cls.dead = True
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = cls.app.open(self.path, method=self.command, data=body, headers={
            k: v for k, v in self.headers.items() if k.lower() != "host"})
        data = answer.get_data()
        self.send_response(answer.status_code)
        for k, v in answer.headers.items():
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = _any  # noqa: N815

    def log_message(self, *args):
        pass


def test_a_tracking_server_killed_while_the_run_is_logged_keeps_the_model(tmp_path,
                                                                         monkeypatch):
    from mlflow.server.constants import ARTIFACT_ROOT_ENV_VAR, BACKEND_STORE_URI_ENV_VAR

    monkeypatch.setenv(BACKEND_STORE_URI_ENV_VAR, f"sqlite:///{tmp_path / 'server.db'}")
    monkeypatch.setenv(ARTIFACT_ROOT_ENV_VAR, str(tmp_path / "server-art"))
    from mlflow.server import app

    _ServerThatDiesWhileLogging.app, _ServerThatDiesWhileLogging.dead = app.test_client(), False
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ServerThatDiesWhileLogging)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    uri = f"http://127.0.0.1:{server.server_address[1]}"
    env = {k: v for k, v in os.environ.items()
           if k not in (BACKEND_STORE_URI_ENV_VAR, ARTIFACT_ROOT_ENV_VAR)}
    path = tmp_path / "m.joblib"
    try:
        r = subprocess.run([str(EXE / "framing-train"), *QUICK, "eval.n_boot=0",
                            "tracking=server", f"tracking.uri={uri}", f"output.model_path={path}",
                            f"hydra.run.dir={tmp_path / 'run'}"], capture_output=True,
                           text=True, timeout=600, env=env)
    finally:
        server.shutdown()
    assert _ServerThatDiesWhileLogging.dead  # it did die while the run was logged
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-3000:]
    model = framing.load(path, verify="strict")  # the fit finished: its model is kept
    run_id = model.card["mlflow_run_id"]
    assert error_lines(r.stderr) == [
        f"framing-train: error: cannot log the run to the tracking server {uri}: it stopped "
        "answering (runs/log-batch: Remote end closed connection without response). Check "
        "that it runs, or log with tracking=sqlite (a local store) or tracking=off. The model "
        f"is written to {path} all the same; its run {run_id} could not be marked FAILED "
        "(runs/get: Remote end closed connection without response); the next framing-train "
        "on this host and store marks it KILLED."]
