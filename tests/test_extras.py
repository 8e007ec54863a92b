"""Installed without its extras (``pip install framing``), every command that needs one
names it in one line instead of a traceback; the predictor's commands still work.

The libraries of the ``train`` extra are hidden from a child interpreter by an import
hook (the real commands run; only the third-party imports fail, as in a bare install).
"""

import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT, SEEDS

MODEL = ROOT / "tests" / "data" / "model-0.2.0.joblib"

HIDE = textwrap.dedent("""
    import sys
    from importlib.abc import MetaPathFinder

    HIDDEN = {"hydra", "omegaconf", "mlflow", "datasets", "pyarrow", "pandas",
              "matplotlib", "tqdm", "krippendorff"}

    class Hide(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in HIDDEN:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Hide())
    entry, *sys.argv[1:] = sys.argv[1:]
    sys.argv[0] = entry
    if entry == "framing-train":
        from framing.cli.train import main
        main()
    else:
        from framing.cli.main import main
        sys.exit(main())
""")


def bare(*args):
    r = subprocess.run([sys.executable, "-c", HIDE, *map(str, args)], capture_output=True,
                       text=True, timeout=300)
    return r.returncode, r.stdout, r.stderr


@pytest.mark.parametrize("args", [
    ("framing-train",),
    ("framing", "evaluate", MODEL, SEEDS / "paragraphs.jsonl"),
    ("framing", "learning-curve", SEEDS / "paragraphs.jsonl"),
    ("framing", "agree", SEEDS / "paragraphs.jsonl", SEEDS / "paragraphs.jsonl"),
    ("framing", "ui"),
], ids=["framing-train", "evaluate", "learning-curve", "agree", "ui"])
def test_a_command_without_its_extra_names_the_extra(args):
    code, out, err = bare(*args)
    assert code == 2, err
    assert "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert "needs the 'train' extra" in line and "pip install 'framing[train]'" in line


def test_the_predictor_commands_need_no_extra():
    code, out, err = bare("framing", "predict", MODEL, SEEDS / "paragraphs.jsonl")
    assert code == 0, err
    assert len(out.splitlines()) == 55
