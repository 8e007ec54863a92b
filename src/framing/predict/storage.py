"""Files written safely: atomic replacement, digests, publication of a model with its
digest, a lock for concurrent writers, and the user's umask. Standard library only.

Every write goes to a temporary file in the target's folder and is renamed into place,
so a reader sees the old file or the new one, never half of either. A model file and
its ``.sha256`` are published so that a reader never sees a file its digest refuses:
the digest file first lists both the new and the old digest, then the model is renamed
into place, then the digest file keeps the new digest only. A crash or a kill at any
step leaves a model that loads (the old one or the new one); two writers of one path
take turns under a lock.

A training run writes its model into a private staging folder beside the final path
(:func:`staging`), logs it from there, and publishes it with :func:`publish_staged` (a
rename) only once the run has ended well; :func:`signals_held` keeps Ctrl-C and SIGTERM
from coming between the run's end and the publication.

:func:`fault` lets the reliability tests kill the process or raise at a named step
(``FRAMING_FAULT=publish.renamed:kill``); it does nothing otherwise.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path


def fault(step: str, **where) -> None:
    """At ``step``, if ``$FRAMING_FAULT`` is ``step:how``: send this process SIGKILL
    (``kill``), SIGINT (``int``) or SIGTERM (``term``), send its process group SIGINT
    (``int-group``: Ctrl-C in a terminal, which every process of the command receives),
    send its parent SIGKILL (``kill-parent``: the pool worker of a sweep job that runs in
    a process of its own), or raise ``OSError`` (``enospc``: a full disk; anything else:
    an I/O error).

    ``step:how@key=value`` fires only where the step names ``key`` with that value
    (``train.saved:kill@job=1``: only in job #1 of a sweep)."""
    want = os.environ.get("FRAMING_FAULT", "")
    if not want:
        return
    name, _, how = want.partition(":")
    if name != step:
        return
    how, _, only = how.partition("@")
    if only:
        key, _, value = only.partition("=")
        if key not in where or str(where[key]) != value:
            return
    signals = {"kill": signal.SIGKILL, "int": signal.SIGINT, "term": signal.SIGTERM}
    if how in signals:
        os.kill(os.getpid(), signals[how])
        return
    if how == "int-group":
        os.killpg(os.getpgrp(), signal.SIGINT)
        return
    if how == "kill-parent":
        os.kill(os.getppid(), signal.SIGKILL)
        return
    raise OSError(errno.ENOSPC if how == "enospc" else errno.EIO,
                  f"injected fault at {step}")


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def user_mode(path: str | Path) -> None:
    """Give a file made by ``mkstemp`` (0600) the mode a plain ``open`` would."""
    os.chmod(path, 0o666 & ~_umask())


def temp_beside(path: Path) -> Path:
    """A new empty temporary file in ``path``'s folder (same file system: rename works)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a part of the folder's path is a file
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(path)) from None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:  # named by the file asked for, not the temporary one
        raise OSError(e.errno, f"cannot write a file in {path.parent} ({e.strerror}); "
                      "choose another folder", str(path)) from None
    os.close(fd)
    return Path(tmp)


def atomic_write(path: str | Path, write: Callable[[Path], None], step: str = "write") -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place.

    The file gets the user's umask; on any error (or a signal turned into an exception)
    the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
    tmp = temp_beside(path)
    try:
        write(tmp)
        fault(f"{step}.written")
        user_mode(tmp)
        os.replace(tmp, path)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        _raise_named(e, path, tmp)
    return path


def _raise_named(e: BaseException, path: Path, tmp: Path) -> None:
    """Re-raise ``e``; an ``OSError`` that names no file (a write's: a full disk) or the
    temporary one names ``path``, the file asked for."""
    if isinstance(e, OSError) and (e.filename is None or os.fsdecode(e.filename) == str(tmp)):
        raise OSError(e.errno, e.strerror, str(path)) from None
    raise e


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    atomic_write(path, write)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 text atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def locked(path: str | Path) -> Iterator[None]:
    """An exclusive lock on ``path`` among cooperating writers (a ``.lock`` file beside
    it); released when the block ends or the process dies."""
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def digest_path(path: str | Path) -> Path:
    """The digest file of a model file: ``<model>.sha256``."""
    path = Path(path)
    return path.with_name(path.name + ".sha256")


def read_digests(path: str | Path) -> list[str]:
    """The digests a ``.sha256`` file accepts (usually one; two while a write is under way)."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if parts:
            out.append(parts[0].lower())
    return out


def publish(path: str | Path, write: Callable[[Path], None]) -> str:
    """Write a model file with ``write(tmp)`` and publish it with its digest; return it.

    Under the lock: write the new file beside the old one; list the new digest with the
    old one's in ``<path>.sha256``; rename the new file into place; keep the new digest
    only. A reader in between finds the old file or the new one, each with a digest that
    accepts it.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
    sha = digest_path(path)
    with locked(path):
        # Under the lock no other writer is at work: temporary files of this model left
        # by a writer that was killed are stale.
        for stale in path.parent.glob(f".{path.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        tmp = temp_beside(path)
        try:
            write(tmp)
            fault("publish.written")
            user_mode(tmp)
            new = sha256_file(tmp)
            old = sha256_file(path) if path.is_file() else None
            lines = [f"{new}  {path.name}"] + ([f"{old}  {path.name}"] if old and old != new
                                               else [])
            atomic_write_text(sha, "\n".join(lines) + "\n")
            fault("publish.both_digests")
            os.replace(tmp, path)
            fault("publish.renamed")
        except BaseException as e:
            tmp.unlink(missing_ok=True)
            _raise_named(e, path, tmp)
        atomic_write_text(sha, f"{new}  {path.name}\n")
    return new


def alive(pid: int) -> bool:
    """Whether process ``pid`` of this host runs (a zombie, ended and not yet reaped,
    does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # ended meanwhile, or no /proc to tell (not Linux): the signal says
        return not Path("/proc/self").is_dir()
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]


def wait_gone(pids: set[int], timeout: float) -> set[int]:
    """Wait up to ``timeout`` seconds for the processes ``pids`` to end (ones stopped or
    killed a moment ago); those still running."""
    import time

    deadline = time.monotonic() + timeout
    left = {p for p in pids if alive(p)}
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = {p for p in left if alive(p)}
    return left


def _staged_by(folder: Path, prefix: str = ".") -> dict[Path, int]:
    """The staging folders in ``folder`` whose names start with ``prefix``, with the
    process each belongs to."""
    out = {}
    for old in folder.glob(f"{prefix}*.staged"):
        pid = old.name[:-len(".staged")].rsplit(".", 1)[-1]
        if pid.isdigit() and old.is_dir():
            out[old] = int(pid)
    return out


def remove_stale_staging(folder: str | Path, wait: float = 0.0) -> list[Path]:
    """Remove the staging folders in ``folder`` (of any model) whose processes have
    ended, after waiting up to ``wait`` seconds for them to end; the folders removed."""
    staged = _staged_by(Path(folder))
    running = wait_gone(set(staged.values()), wait) if wait else {
        p for p in staged.values() if alive(p)}
    gone = [f for f, pid in staged.items() if pid not in running]
    for f in gone:
        shutil.rmtree(f, ignore_errors=True)
    return gone


def staging(path: str | Path) -> Path:
    """Where to write a file before it is published as ``path``: ``path``'s name inside a
    new private folder beside it (``.<name>.<pid>.staged``, same file system, so that
    publishing is a rename). Such folders left by processes that are gone are removed."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a part of the folder's path is a file
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(path.parent)) from None
    prefix = f".{path.name}."
    for old, pid in _staged_by(path.parent, prefix).items():
        if old.name == f"{prefix}{pid}.staged" and (pid == os.getpid() or not alive(pid)):
            shutil.rmtree(old, ignore_errors=True)
    folder = path.parent / f"{prefix}{os.getpid()}.staged"
    try:
        folder.mkdir()
    except OSError as e:
        raise OSError(e.errno, f"cannot write a file in {path.parent} ({e.strerror}); "
                      "choose another folder", str(path)) from None
    return folder / path.name


def publish_staged(staged: str | Path, path: str | Path,
                   companions: tuple[tuple[Path, Path], ...] = ()) -> str:
    """Publish the file written at ``staged`` (from :func:`staging`) as ``path`` with its
    digest, by a rename; then each ``(staged, final)`` companion file (a card), each by a
    rename. Return the digest."""
    staged = Path(staged)
    digest = publish(path, lambda tmp: os.replace(staged, tmp))
    for src, dst in companions:
        if src.is_file():
            os.replace(src, dst)
    return digest


def discard_staging(staged: str | Path | None) -> None:
    """Remove the staging folder of ``staged`` and whatever is left in it."""
    if staged is not None and Path(staged).parent.name.endswith(".staged"):
        shutil.rmtree(Path(staged).parent, ignore_errors=True)


@contextlib.contextmanager
def signals_held(signums: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back while the block runs (steps that must happen
    together); one that comes meanwhile is delivered when the block ends. Only the main
    thread receives them, so elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
            signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, signums)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
