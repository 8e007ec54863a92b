"""A model file and its digest are published together: kill -9 or an error at any step,
or two writers at once, leave a model that loads."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import framing
from framing.predict.storage import read_digests

from conftest import SEEDS

SAVE = """
import sys, framing
m = framing.load(sys.argv[1])
m.card["note"] = sys.argv[3]
m.save(sys.argv[2])
"""


def save_in_subprocess(src: Path, dst: Path, note: str, fault: str | None = None):
    env = {**os.environ, "FRAMING_FAULT": fault or ""}
    return subprocess.run([sys.executable, "-c", SAVE, str(src), str(dst), note], env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def published(tiny, tmp_path):
    """A model published at tmp_path/m.joblib (the 'old' one, note 'old')."""
    model = framing.load(tiny)
    model.card["note"] = "old"
    return model.save(tmp_path / "m.joblib")


@pytest.mark.parametrize("step", ["publish.written", "publish.both_digests",
                                  "publish.renamed"])
@pytest.mark.parametrize("how", ["kill", "error", "enospc"])
def test_a_failed_write_leaves_a_model_that_loads(tiny, published, step, how, monkeypatch):
    if how == "kill":
        r = save_in_subprocess(tiny, published, "new", f"{step}:{how}")
        assert r.returncode == -9
    else:
        monkeypatch.setenv("FRAMING_FAULT", f"{step}:{how}")
        model = framing.load(tiny)
        model.card["note"] = "new"
        with pytest.raises(OSError, match=f"injected fault at {step}"):
            model.save(published)
        monkeypatch.delenv("FRAMING_FAULT")
    model = framing.load(published, verify="strict")  # the old one or the new one
    assert model.card["note"] == ("new" if step == "publish.renamed" else "old")
    temps = [p for p in published.parent.iterdir() if p.name.endswith(".tmp")]
    assert not temps or how == "kill"  # a killed process cannot clean up ...
    model = framing.load(tiny)
    model.card["note"] = "again"
    model.save(published)  # ... the next write does
    assert framing.load(published, verify="strict").card["note"] == "again"
    assert len(read_digests(str(published) + ".sha256")) == 1
    assert not [p for p in published.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_first_write_that_fails_leaves_nothing(tiny, tmp_path):
    path = tmp_path / "new.joblib"
    r = save_in_subprocess(tiny, path, "new", "publish.written:kill")
    assert r.returncode != 0 and not path.exists()


def test_concurrent_writers_leave_a_model_that_loads(tiny, tmp_path):
    path = tmp_path / "m.joblib"
    script = SAVE + "\nfor i in range(5):\n    m.save(sys.argv[2])\n"
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tiny), str(path),
                               f"writer {k}"], stderr=subprocess.PIPE, text=True)
             for k in range(2)]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    assert framing.load(path, verify="strict").card["note"] in ("writer 0", "writer 1")


def test_files_take_the_users_umask(tiny, tmp_path):
    code = ("import os, sys, framing; os.umask(0o022); "
            "framing.load(sys.argv[1]).save(sys.argv[2])")
    subprocess.run([sys.executable, "-c", code, str(tiny), str(tmp_path / "u.joblib")],
                   check=True, timeout=300)
    for name in ("u.joblib", "u.joblib.sha256"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name


def tmpfs(tmp_path: Path, size: str = "256k") -> Path:
    """A small tmpfs mounted under tmp_path, or a skip saying why there is none."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip() or 'not permitted'}); "
                    "the injected ENOSPC cases above cover a full disk")
    return mnt


def test_a_full_disk_is_one_line_and_leaves_the_old_model(trained, tmp_path):
    mnt = tmpfs(tmp_path)
    try:
        small = mnt / "m.joblib"
        # a tiny model fits; the seed model (far larger) does not
        model, _ = framing.fit(["alpha beta", "gamma delta"] * 6, ["x", "y"] * 6,
                               overrides=["features=ngrams", "eval.n_boot=0"])
        model.save(small)
        code = ("import sys, framing\n"
                "from framing.core.errors import describe_os_error\n"
                "try:\n    framing.load(sys.argv[1]).save(sys.argv[2])\n"
                "except OSError as e:\n    print(describe_os_error(e)); sys.exit(2)")
        r = subprocess.run([sys.executable, "-c", code, str(trained[0]), str(small)],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 2 and "no space left on the device" in r.stdout
        assert framing.load(small, verify="strict").labels == {"label": ["x", "y"]}
        assert not [p for p in mnt.iterdir() if p.name.endswith(".tmp")]
        assert (mnt / "m.card.md").is_file()
        # framing-train: one line, exit 2, the old model still there
        out = subprocess.run([str(Path(sys.executable).with_name("framing-train")),
                              "tracking=off", "eval.n_boot=0", f"output.model_path={small}",
                              "output.overwrite=true",
                              f"hydra.run.dir={tmp_path / 'run'}"], capture_output=True,
                             text=True, timeout=600)
        lines = [x for x in out.stderr.splitlines() if x.startswith("framing-train:")]
        assert out.returncode == 2 and len(lines) == 1, out.stderr[-2000:]
        assert lines[0].startswith(f"framing-train: error: {small}: no space left on the "
                                   "device; free some space or write elsewhere. This run's "
                                   f"model is not written; {small} stays as it was")
        assert "Traceback" not in out.stderr
        assert framing.load(small, verify="strict").labels == {"label": ["x", "y"]}
        filler = mnt / "filler"  # now fill the disk: Hydra's run folder, the MLflow store
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 4096)
                    f.flush()
            except OSError:
                pass
        for args, what in (([f"hydra.run.dir={mnt / 'run'}", "tracking=off"],
                            f"{mnt / 'run'}: no space left on the device"),
                           ([f"hydra.run.dir={tmp_path / 'run2'}",
                             f"tracking.uri=sqlite:///{mnt / 'store.db'}"],
                            f"cannot open the MLflow store {mnt / 'store.db'}: the disk it "
                            "is on is full")):
            out = subprocess.run([str(Path(sys.executable).with_name("framing-train")),
                                  "eval.n_boot=0", f"output.model_path={small}",
                                  "output.overwrite=true", *args],
                                 capture_output=True, text=True, timeout=600)
            lines = [x for x in out.stderr.splitlines() if x.startswith("framing-train:")]
            assert out.returncode == 2 and len(lines) == 1 and what in lines[0], out.stderr
            assert "Traceback" not in out.stderr
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_predict_output_on_a_full_disk(trained, tmp_path):
    mnt = tmpfs(tmp_path, "16k")
    try:
        rows = [json.loads(x) for x in (SEEDS / "paragraphs.jsonl").read_text().splitlines()]
        src = tmp_path / "in.jsonl"
        src.write_text("".join(json.dumps(r) + "\n" for r in rows * 4))
        out = mnt / "out.jsonl"
        r = subprocess.run([str(Path(sys.executable).with_name("framing")), "predict",
                            str(trained[0]), str(src), "-o", str(out)], capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 2 and "no space left on the device" in r.stderr
        assert not out.exists() and not list(mnt.iterdir())
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_digests_accept_both_files_during_a_write(tiny, published):
    """What a reader sees between the two renames: both digests listed, either loads."""
    sha = Path(str(published) + ".sha256")
    old = read_digests(sha)
    r = save_in_subprocess(tiny, published, "new", "publish.both_digests:kill")
    assert r.returncode != 0
    both = read_digests(sha)
    assert len(both) == 2 and old[0] in both
    assert np.array_equal(framing.load(published).predict_proba("goal")["topic"],
                          framing.load(tiny).predict_proba("goal")["topic"])


def test_a_staged_model_is_published_by_a_rename_with_its_digest_and_card(tiny, published):
    """A training run's model waits in a staging folder beside its path (where it is
    logged from) and is published whole, with its digest and card; a staging folder left
    by a process that is gone is cleared by the next."""
    from framing.predict.model import card_path
    from framing.predict.storage import discard_staging, publish_staged, staging

    left = published.parent / f".{published.name}.{2 ** 22 + 17}.staged"  # no such process
    left.mkdir()
    (left / published.name).write_bytes(b"half a model")
    staged = staging(published)
    assert not left.exists() and staged.name == published.name
    model = framing.load(tiny)
    model.card = {**model.card, "note": "staged"}
    model.save(staged)
    assert framing.load(published, verify="strict").card["note"] == "old"  # not yet
    publish_staged(staged, published, ((card_path(staged), card_path(published)),))
    discard_staging(staged)
    assert framing.load(published, verify="strict").card["note"] == "staged"
    assert len(read_digests(str(published) + ".sha256")) == 1
    assert card_path(published).is_file()
    assert not [p for p in published.parent.iterdir() if p.name.endswith((".staged", ".tmp"))]


def train_quick(tmp_path: Path, *args: str, fault: str | None = None):
    """framing-train on the seeds, quickly, the model at tmp_path/m.joblib (replacing what
    is there), the run logged to tmp_path/store.db unless args say otherwise; (code,
    its framing-train lines on stderr, stderr)."""
    env = {**os.environ, "FRAMING_FAULT": fault or ""}
    r = subprocess.run([str(Path(sys.executable).with_name("framing-train")), "model=logreg",
                        "features=ngrams", "eval.label_issues=off", "eval.n_boot=0",
                        f"tracking.uri=sqlite:///{tmp_path / 'store.db'}",
                        f"tracking.artifact_location={tmp_path / 'art'}",
                        f"output.model_path={tmp_path / 'm.joblib'}", "output.overwrite=true",
                        f"hydra.run.dir={tmp_path / 'run'}", *args],
                       capture_output=True, text=True, env=env, timeout=600)
    lines = [x for x in r.stderr.splitlines() if x.startswith("framing-train:")]
    return r.returncode, lines, r.stderr


def model_runs(db: Path) -> list[tuple[str, str]]:
    """(run id, status) of the model runs of an SQLite MLflow store, read with sqlite3 (no
    MLflow engine left holding the file open)."""
    import sqlite3

    con = sqlite3.connect(db)
    try:
        return con.execute("select r.run_uuid, r.status from runs r join tags t on "
                           "t.run_uuid = r.run_uuid where t.key = 'framing.role' and "
                           "t.value = 'model' order by r.start_time").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("step", ["publish.written", "track.logging"],
                         ids=["at the model file", "at the MLflow store"])
def test_a_full_disk_while_training_names_the_file_or_the_store(tiny, tmp_path, step):
    """ENOSPC where a tmpfs cannot put it: while the model is written (the model that
    stood stays), and while the run is logged (the fit is done: its model is kept)."""
    import shutil

    path = tmp_path / "m.joblib"
    shutil.copy2(tiny, path)
    shutil.copy2(f"{tiny}.sha256", f"{path}.sha256")
    before = path.read_bytes()
    objective = framing.load(path).card["evaluation"]["metrics"]["objective"]
    code, lines, err = train_quick(tmp_path, fault=f"{step}:enospc")
    assert code == 2 and "Traceback" not in err, err[-2000:]
    [(run_id, status)] = model_runs(tmp_path / "store.db")
    assert status == "FAILED"
    if step == "publish.written":
        assert lines == [f"framing-train: error: {path}: no space left on the device; free "
                         "some space or write elsewhere. This run's model is not written; "
                         f"{path} stays as it was (objective {objective:.4f}); its run "
                         f"{run_id} is marked FAILED."]
        assert path.read_bytes() == before
    else:
        assert lines == [f"framing-train: error: cannot log the run to the MLflow store "
                         f"{tmp_path / 'store.db'}: the disk it is on is full; free some space "
                         "or log elsewhere with tracking.uri=sqlite:///other/mlflow.db "
                         "([Errno 28] injected fault at track.logging). The model is written "
                         f"to {path} all the same; its run {run_id} is marked FAILED."]
        model = framing.load(path, verify="strict")
        assert model.tasks == ["theme", "tone"] and model.card["mlflow_run_id"] == run_id
    assert framing.load(path, verify="strict")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith((".staged", ".tmp"))]


def test_a_store_on_a_disk_with_little_room_left_is_one_line_and_keeps_the_model(tmp_path):
    """An SQLite store that exists, on a disk with 40 KiB left: the run's logging fills
    it. One line names the store and says where the model is and what became of its run."""
    mnt = tmpfs(tmp_path, "4m")
    try:
        db = mnt / "store.db"
        subprocess.run([sys.executable, "-c", "import sys; from mlflow.tracking import "
                        "MlflowClient; MlflowClient(sys.argv[1]).search_experiments()",
                        f"sqlite:///{db}"], check=True, capture_output=True, timeout=300)
        room = os.statvfs(mnt)
        with open(mnt / "filler", "wb") as f:  # all but 40 KiB
            f.write(b"\0" * (room.f_bavail * room.f_frsize - 40 * 1024))
        path = tmp_path / "m.joblib"
        code, lines, err = train_quick(tmp_path, f"tracking.uri=sqlite:///{db}")
        assert code == 2 and len(lines) == 1 and "Traceback" not in err, err[-3000:]
        assert lines[0].startswith(f"framing-train: error: cannot log the run to the MLflow "
                                   f"store {db}: the disk it is on is full; free some space")
        [(run_id, status)] = model_runs(db)
        assert f"The model is written to {path} all the same; its run {run_id} " in lines[0]
        # marked when the store has room enough for that; said so when it has not
        assert (status == "FAILED" and lines[0].endswith("is marked FAILED.") or
                status == "RUNNING" and "could not be marked FAILED" in lines[0])
        assert framing.load(path, verify="strict").card["mlflow_run_id"] == run_id
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)
