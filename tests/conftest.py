"""Shared fixtures: a composed config per test, outputs and MLflow store under tmp_path."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
# A test process started in the background or as a pytest-xdist worker may inherit Ctrl-C
# (SIGINT) ignored, and every command it starts would ignore it too: the interrupt tests
# need the commands to receive it as a user's terminal delivers it.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
# the shared corpora where the package looks for them: $FRAMING_SHARED, else beside the project
SHARED = Path(os.environ.get("FRAMING_SHARED", ROOT.parent / "shared"))
BENCHMARKS = Path(os.environ.get("FRAMING_BENCHMARKS", SHARED / "benchmarks"))


def framing_copy(tmp_path: Path, layout: str) -> Path:
    """A copy of this framing under ``tmp_path``, laid out as a source checkout
    (``checkout``: ``clone/`` with pyproject.toml, conf/, seeds/ and src/) or as an
    installed package (``installed``: the wheel's layout, conf and seeds inside the
    package, in a site-packages folder); the folder to put on ``PYTHONPATH``."""
    import shutil

    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    if layout == "checkout":
        clone = tmp_path / "clone"
        shutil.copytree(ROOT / "src" / "framing", clone / "src" / "framing", ignore=skip)
        shutil.copytree(ROOT / "conf", clone / "conf", ignore=skip)  # experiment/ followed
        shutil.copytree(ROOT / "seeds", clone / "seeds", ignore=skip)
        shutil.copy2(ROOT / "pyproject.toml", clone / "pyproject.toml")
        return clone / "src"
    site = tmp_path / "venv" / "lib" / "site-packages"
    shutil.copytree(ROOT / "src" / "framing", site / "framing", ignore=skip)
    shutil.copytree(ROOT / "conf", site / "framing" / "conf", ignore=skip)
    shutil.copytree(ROOT / "seeds", site / "framing" / "seeds", ignore=skip)
    return site


def run_copy(path_entry: Path, command: str, *args, cwd: Path, env=None):
    """Run a console script (``framing`` or ``framing-train``) of the framing on
    ``path_entry`` in ``cwd``, with no FRAMING_* or MLflow variable unless ``env`` gives
    it (and a home folder of its own beside the copy); (returncode, stdout, stderr)."""
    entry = {"framing": "from framing.cli.main import _entry as main",
             "framing-train": "from framing.cli.train import main"}[command]
    launch = f"import sys; {entry}; sys.argv = [{command!r}] + sys.argv[1:]; main()"
    home = path_entry.parent / "home"
    home.mkdir(exist_ok=True)
    base = {"PYTHONPATH": str(path_entry), "HOME": str(home),
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", launch, *map(str, args)], cwd=cwd,
                       env={**base, **(env or {})}, capture_output=True, text=True,
                       timeout=600)
    return r.returncode, r.stdout, r.stderr


def compose(tmp_path: Path, overrides: list[str] = (), tracking: str = "off"):
    """The train config with every output (model, runs, store) under ``tmp_path``."""
    from framing.config.tree import compose as framing_compose

    base = [f"tracking={tracking}", f"output.model_path={tmp_path / 'models' / 'framing.joblib'}"]
    if tracking == "sqlite":
        base += [f"tracking.uri=sqlite:///{tmp_path / 'mlflow.db'}",
                 f"tracking.artifact_location={tmp_path / 'mlartifacts'}"]
    return framing_compose([*base, *overrides], output_dir=tmp_path / "outputs")


@pytest.fixture
def cfg_factory(tmp_path):
    def make(overrides=(), tracking="off"):
        return compose(tmp_path, list(overrides), tracking)
    return make


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """Train the default experiment once (tracking off); (bundle path, metrics)."""
    from framing.cli.train import train

    tmp = tmp_path_factory.mktemp("trained")
    cfg = compose(tmp, ["eval.n_boot=200"])
    value = train(cfg)
    return tmp / "models" / "framing.joblib", value


def run_cli(*args, stdin: str | None = None, cwd: Path | None = None, env=None):
    """Run a console script of the venv; (returncode, stdout, stderr)."""
    exe = Path(sys.executable).with_name(args[0])
    r = subprocess.run([str(exe), *map(str, args[1:])], input=stdin, capture_output=True,
                       text=True, cwd=cwd, env=env, timeout=600)
    return r.returncode, r.stdout, r.stderr


def word_lists() -> dict[str, list[str]]:
    """Every shipped word list (codebooks, cues, voice), named by file and key."""
    import yaml

    out = {}
    for f in ("codebook/default.yaml", "codebook/guidelines.yaml", "cues/default.yaml",
              "voice/default.yaml"):
        for k, v in yaml.safe_load((ROOT / "conf" / f).read_text()).items():
            out[f"{f}:{k}"] = v
    return out


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """A small two-task model saved to disk (fast to load in a fresh process); its path."""
    import framing

    texts = ["match goal team", "minister vote law", "coach league player",
             "party election parliament"] * 6
    model, _ = framing.fit(texts, {"topic": ["sport", "politics"] * 12,
                                   "tags": [["a"], ["b"], ["a", "b"], []] * 6},
                           overrides=["features=ngrams", "eval.n_boot=0"])
    return model.save(tmp_path_factory.mktemp("tiny") / "tiny.joblib")
