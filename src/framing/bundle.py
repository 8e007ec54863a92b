"""The predictor bundle on disk: one joblib file, a SHA-256 file and a model card beside it.

Writing is atomic (temporary file in the same folder, then rename). Reading checks the
digest when the ``.sha256`` file is present, the format marker and version, and the
scikit-learn version the bundle was made with.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

from framing.errors import ModelLoadError

FORMAT = "framing-predictor"
FORMAT_VERSION = 1


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 text atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def write_bundle(bundle: dict[str, Any], path: str | Path, card_markdown: str | None = None
                 ) -> Path:
    """Save a bundle dict as ``path`` with ``path.sha256`` and ``MODEL_CARD.md`` beside it."""
    import joblib

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    bundle = {"format": FORMAT, "format_version": FORMAT_VERSION, **bundle}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        joblib.dump(bundle, tmp, compress=3)
        digest = sha256_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    atomic_write_text(sha_path(path), f"{digest}  {path.name}\n")
    if card_markdown is not None:
        atomic_write_text(path.parent / "MODEL_CARD.md", card_markdown)
    return path


def sha_path(path: str | Path) -> Path:
    """The digest file of a bundle: ``<bundle>.sha256``."""
    path = Path(path)
    return path.with_name(path.name + ".sha256")


def read_bundle(path: str | Path, verify: bool = True, on_version_mismatch: str = "warn"
                ) -> dict[str, Any]:
    """Load and check a bundle; raise :class:`ModelLoadError` with the reason and the fix.

    A joblib file runs code while it loads: load only files you trust. The digest check
    catches corruption and accidental replacement, not a deliberate attacker who can also
    rewrite the ``.sha256`` file.
    """
    import joblib

    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"{path}: no such model file. Train one with `make train` or "
                             "give the path of a .joblib bundle.")
    digest_file = sha_path(path)
    if verify and digest_file.is_file():
        expected = digest_file.read_text(encoding="utf-8").split()
        actual = sha256_file(path)
        if not expected or expected[0].lower() != actual:
            raise ModelLoadError(
                f"{path}: SHA-256 {actual[:16]}… does not match {digest_file.name} "
                f"({(expected or ['(empty)'])[0][:16]}…). The file was changed or damaged "
                "after it was written; retrain or restore it (refusing to load).")
    try:
        bundle = joblib.load(path)
    except (ModuleNotFoundError, AttributeError) as e:
        raise ModelLoadError(f"{path}: needs code that is not installed ({e}). It was made by "
                             "another program or another version of framing.") from None
    except Exception as e:  # unpickling damaged bytes can raise almost anything
        raise ModelLoadError(f"{path}: not a readable joblib file ({type(e).__name__}: {e}). "
                             "It may be truncated or corrupt; retrain or restore it.") from None
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise ModelLoadError(f"{path}: a joblib file, but not a framing predictor bundle "
                             f"(found {type(bundle).__name__}). Give a file written by "
                             "framing-train.")
    version = bundle.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelLoadError(f"{path}: bundle format version {version!r}, this framing reads "
                             f"version {FORMAT_VERSION}. Retrain the model with this version "
                             "or install the framing version that wrote it.")
    import sklearn

    made = bundle.get("card", {}).get("versions", {}).get("scikit-learn")
    if made and made != sklearn.__version__:
        msg = (f"{path}: made with scikit-learn {made}, running {sklearn.__version__}; "
               "predictions may differ. Retrain, or install the same scikit-learn version.")
        if on_version_mismatch == "error":
            raise ModelLoadError(msg)
        if on_version_mismatch == "warn":
            warnings.warn(msg, UserWarning, stacklevel=3)
    return bundle
