"""Models shipped with the package, named in configs by their file stem (see README.md)."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def model_path(ref: str | Path) -> Path:
    """The file a model reference names: a shipped model's name (``subjectivity``) or a
    path to a ``.joblib`` model file."""
    ref = str(ref)
    shipped = HERE / f"{ref}.joblib"
    if "/" not in ref and not ref.endswith(".joblib") and shipped.is_file():
        return shipped
    return Path(ref)


def shipped() -> list[str]:
    """Names of the shipped models."""
    return sorted(p.stem for p in HERE.glob("*.joblib"))
