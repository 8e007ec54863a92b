import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_ruff_is_clean():
    ruff = Path(sys.executable).with_name("ruff")
    exe = str(ruff) if ruff.is_file() else shutil.which("ruff")
    r = subprocess.run([exe, "check", "src", "tests", "benchmarks"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def _lint_imports(cwd: Path, src: Path):
    """lint-imports on the package found under ``src`` (the layer contract of
    pyproject.toml, read from ``cwd``)."""
    import os

    env = dict(os.environ, PYTHONPATH=str(src))
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(exe), "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          env=env)


def test_the_layer_contract_holds():
    r = _lint_imports(ROOT, ROOT / "src")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Contracts: 3 kept, 0 broken." in r.stdout


def test_an_upward_import_breaks_the_layer_contract(tmp_path):
    # the predictor side reaching up to the learning side, inside a function (counted too)
    shutil.copytree(ROOT / "src" / "framing", tmp_path / "src" / "framing",
                    ignore=shutil.ignore_patterns("__pycache__", "*.joblib"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    model = tmp_path / "src" / "framing" / "predict" / "model.py"
    model.write_text(model.read_text() + "\n\ndef _upward():\n"
                     "    from framing.learn.features import build_features\n\n"
                     "    return build_features\n")
    r = _lint_imports(tmp_path, tmp_path / "src")
    assert r.returncode != 0
    assert "framing.predict is not allowed to import framing.learn" in r.stdout
    assert "framing.predict.model -> framing.learn.features" in r.stdout
