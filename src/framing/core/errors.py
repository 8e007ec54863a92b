"""Exceptions a user can cause, each with a message that says what, where and what to do."""

from __future__ import annotations

from pathlib import Path


class FramingError(Exception):
    """Base class of every error the package raises on purpose.

    The command-line tools print the message of a ``FramingError`` without a traceback
    and exit with status 2.
    """


class FramingDataError(FramingError, ValueError):
    """A corpus cannot be read or does not validate (file, record and fix in the message)."""


class FramingConfigError(FramingError, ValueError):
    """A configuration value is missing or inconsistent."""


class ModelLoadError(FramingError):
    """A predictor bundle is missing, corrupt, tampered with or not a framing bundle."""


class TrackingError(FramingError):
    """The MLflow tracking store cannot be reached or written."""


class Terminated(BaseException):
    """SIGTERM turned into an exception, so that temporary files are removed on the way
    out (``framing`` and ``framing-train`` install the handler)."""


def input_file(path) -> Path:
    """``path`` as a :class:`~pathlib.Path` when it names a file to read; else one
    :class:`FramingDataError` (no such file, or a folder)."""
    path = Path(path)
    if path.is_dir():
        raise FramingDataError(f"{path}: is a folder, not a file. Give the file's path (or "
                               "each file's: a shell pattern such as folder/*.jsonl).")
    if not path.is_file():
        raise FramingDataError(f"{path}: no such file. Check the path.")
    return path


def terminate_on_sigterm() -> None:
    """Raise :class:`Terminated` in the main thread when the process gets SIGTERM."""
    import signal
    import threading

    def handler(signum, frame):
        raise Terminated()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


def describe_os_error(e: OSError) -> str:
    """One line for an operating-system error: which file, what went wrong, what to do."""
    import errno

    advice = {
        errno.ENOSPC: "no space left on the device; free some space or write elsewhere",
        errno.EDQUOT: "disk quota exceeded; free some space or write elsewhere",
        errno.EACCES: "permission denied; choose a folder you can write to",
        errno.EPERM: "permission denied; choose a folder you can write to",
        errno.EROFS: "read-only file system; choose another folder",
        errno.EISDIR: "is a folder; give a file name",
        errno.ENOTDIR: "a part of the path is a file, not a folder; fix the path",
    }.get(e.errno, e.strerror or str(e))
    where = e.filename or "(a file)"
    if e.errno in (errno.ENOSPC, errno.EDQUOT) and e.filename2:
        where = e.filename2  # a copy's destination is the full one, not its source
    return f"{where}: {advice}."


#: The optional parts of the package (pyproject.toml's extras) and the libraries each
#: brings: a command that needs one names the extra to install instead of a traceback.
EXTRAS = {
    "train": ("hydra", "omegaconf", "hydra_plugins", "mlflow", "datasets", "pyarrow",
              "pandas", "matplotlib", "tqdm", "krippendorff"),
    "scale": ("dask", "distributed"),
    "cluster": ("submitit",),
    "spark": ("pyspark",),
    "issues": ("cleanlab",),
}


def missing_extra(e: ModuleNotFoundError, command: str) -> str | None:
    """One line for a library of an extra that is not installed, or None (not ours)."""
    top = (e.name or "").split(".")[0]
    extra = next((x for x, mods in EXTRAS.items() if top in mods), None)
    if extra is None:
        return None
    return (f"{command} needs the '{extra}' extra ({top} is not installed): pip install "
            f"'framing[{extra}]' (from a clone of the project: pip install -e '.[{extra}]')")


def require_extra(extra: str, command: str) -> None:
    """Raise :class:`FramingError` naming the extra when its libraries are missing."""
    import importlib.util

    for mod in EXTRAS[extra]:
        if mod in ("hydra_plugins", "pandas"):
            continue
        try:
            found = importlib.util.find_spec(mod) is not None
        except (ImportError, ValueError):  # a broken install is as good as none
            found = False
        if not found:
            e = ModuleNotFoundError(f"No module named {mod!r}", name=mod)
            raise FramingError(missing_extra(e, command))
