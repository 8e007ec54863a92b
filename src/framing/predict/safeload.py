"""Loading a joblib file without running what it names.

``joblib.load`` is ``pickle``: a file can name any importable callable and have it called
(``os.system``, ``builtins.eval`` ...). :func:`safe_load` reads the same files through
joblib's own unpickler, but every global the stream names goes through an allow-list
*before* it is imported or called — numpy arrays, dtypes and scalars, scipy's sparse
matrices, scikit-learn estimators (``BaseEstimator`` subclasses and a few vetted
helpers), builtin containers, compiled regular expressions, and the classes of the
packages the caller names (framing's own) — and the pickle constructs that would get
around that check are refused: calling anything that is not such a global, setting
attributes on a class, the copyreg extension registry, persistent ids. Sparse matrices
are checked for out-of-range indices as they are built.

This follows skops's trusted-types design (types are trusted by full name; a file
naming anything else is refused before it runs) on the joblib format. It does not
protect against memory exhaustion (a decompression bomb), against bugs in an allowed
class's ``__setstate__``, or against risky settings of allowed estimators that act
when the model is used. Written against joblib 1.6.0's ``NumpyUnpickler``.
"""

from __future__ import annotations

import _compat_pickle
import contextlib
import importlib
import os
import pickle
import sys

import joblib
import numpy as np
from joblib.numpy_pickle import NumpyArrayWrapper, NumpyUnpickler
from joblib.numpy_pickle_utils import _validate_fileobject_and_memmap

__all__ = ["DEFAULT_ALLOWED_NAMES", "Policy", "SafeLoadError", "UnsafePickleError",
           "UntrustedTypeError", "safe_load"]


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------
class SafeLoadError(pickle.UnpicklingError):
    """Base class: the file was refused by safe_load."""


class UntrustedTypeError(SafeLoadError):
    """The stream names a global (type/function) that is not on the allow-list.

    Raised from ``find_class``, i.e. before the global is imported or called.
    """

    def __init__(self, name: str, reason: str = "not on the allow-list"):
        self.name = name
        super().__init__(
            f"safe_load refused global {name!r} ({reason}); nothing from it was "
            "imported or executed. If you have reviewed this type and trust it, "
            f"pass allowed_names=[{name!r}] (or a module prefix via "
            "allowed_prefixes); if you trust the whole file, pass trusted=True "
            "(falls back to joblib.load, which can run arbitrary code)."
        )


class UnsafePickleError(SafeLoadError):
    """The stream uses a pickle construct safe_load refuses (not a global)."""


# --------------------------------------------------------------------------
# Allow-list
# --------------------------------------------------------------------------
# Exact "module.name" entries. Every entry is either a data type whose
# constructor/__setstate__ only builds a value, or a vetted reconstructor.
DEFAULT_ALLOWED_NAMES = frozenset({
    # builtins: value and container types only (never eval/exec/getattr/open...)
    *(f"builtins.{t}" for t in (
        "bool", "int", "float", "complex", "str", "bytes", "bytearray",
        "list", "tuple", "dict", "set", "frozenset", "slice", "range", "object",
    )),
    "collections.OrderedDict",
    "collections.defaultdict",  # default_factory is itself a checked global
    # protocol 0/1 object reconstructor: base.__new__(cls)/base.__init__; both
    # cls and base reach it only as globals, i.e. through this allow-list
    "copyreg._reconstructor",
    # compiled regexes pickle as re._compile(pattern, flags)
    "re._compile",
    # joblib's placeholder for ndarrays stored out-of-band in the stream; its
    # state is validated in _check_wrapper before any bytes are read
    "joblib.numpy_pickle.NumpyArrayWrapper",
    # numpy array / dtype / scalar reconstruction (numpy validates the states:
    # object arrays/scalars cannot be built from raw bytes)
    "numpy.ndarray",
    "numpy.dtype",
    "numpy._core.multiarray._reconstruct",
    "numpy._core.multiarray.scalar",
    "numpy.core.multiarray._reconstruct",  # files written by numpy 1.x
    "numpy.core.multiarray.scalar",
    # scipy sparse: plain classes; state is re-validated with
    # check_format(full_check=True) right after BUILD
    "scipy.sparse._csr.csr_matrix",
    "scipy.sparse._csr.csr_array",
    "scipy.sparse._csc.csc_matrix",
    "scipy.sparse._csc.csc_array",
    # scikit-learn helpers that are not BaseEstimator subclasses
    "sklearn.calibration._CalibratedClassifier",
    *(f"sklearn.linear_model._sgd_fast.{c}" for c in (  # SGD loss objects
        "Hinge", "SquaredHinge", "ModifiedHuber", "EpsilonInsensitive",
        "SquaredEpsilonInsensitive",
    )),
    # the compiled loss objects an SGD model keeps (their state is a few numbers)
    *(f"sklearn._loss._loss.Cy{c}" for c in (
        "HalfBinomialLoss", "HalfMultinomialLoss", "HalfSquaredError", "AbsoluteError",
        "HuberLoss", "PinballLoss", "ExponentialLoss",
    )),
})

# Module path components under which *prefix* rules never import anything:
# test suites, test helpers (mocking estimators), experimental switches.
_BLOCKED_PARTS = frozenset({
    "tests", "test", "testing", "_testing", "conftest", "_mocking",
    "estimator_checks", "experimental", "externals", "__main__",
})


def _type_path(obj) -> str:
    """'module.qualname' of a type/function, or the string unchanged."""
    if isinstance(obj, str):
        return obj
    return f"{obj.__module__}.{obj.__qualname__}"


def _under(module: str, prefix: str) -> bool:
    prefix = prefix.rstrip(".")
    return module == prefix or module.startswith(prefix + ".")


def _is_numpy_type(obj) -> bool:
    return issubclass(obj, (np.generic, np.dtype))  # np.float64, dtypes.Float64DType


def _is_sklearn_estimator(obj) -> bool:
    from sklearn.base import BaseEstimator

    return issubclass(obj, BaseEstimator)


class Policy:
    """Which globals a stream may reference.

    A global ``module.name`` is admitted if
      1. "module.name" is in ``names`` (defaults + ``allowed_names``), or
      2. a *class rule* matches: the module is under a rule's prefix, no
         component of the module path is a test/helper module, the name has no
         dots, the object found in the module's ``__dict__`` is a class
         (never a function) *defined* in that module (``__module__`` equals the
         module, so re-exports like ``from subprocess import Popen`` fail),
         and the rule's predicate holds:
           - modules "numpy", "numpy.dtypes" (exactly): subclasses of
             np.generic / np.dtype (np.float64, dtypes.Float64DType ...)
           - "sklearn":  subclasses of sklearn.base.BaseEstimator
           - each of ``allowed_prefixes``: any class (the caller's own package)
    Nothing is imported before the module passes the name/prefix check.
    """

    def __init__(self, allowed_prefixes=(), allowed_names=(), rename=None):
        self.rename = rename  # module name in the file -> module to look in (moved code)
        if isinstance(allowed_prefixes, str):
            allowed_prefixes = (allowed_prefixes,)
        if isinstance(allowed_names, (str, type)):
            allowed_names = (allowed_names,)
        self.names = DEFAULT_ALLOWED_NAMES | {_type_path(n) for n in allowed_names}
        # (prefix, predicate, exact): exact=True matches the module itself only
        self.rules = [("numpy", _is_numpy_type, True),
                      ("numpy.dtypes", _is_numpy_type, True),
                      ("sklearn", _is_sklearn_estimator, False)]
        self.rules += [(p, lambda obj: True, False) for p in allowed_prefixes]

    def resolve(self, module: str, name: str):
        """Return the object for ``module.name`` or raise UntrustedTypeError."""
        if self.rename is not None:
            module = self.rename(module)
        full = f"{module}.{name}"
        if not (name.isidentifier() and all(p.isidentifier() for p in module.split("."))):
            # dotted names would walk attribute chains (X.__init__.__globals__)
            raise UntrustedTypeError(full, "not a plain module-level name")
        if full in self.names:
            return getattr(importlib.import_module(module), name)
        predicates = [pred for prefix, pred, exact in self.rules
                      if (module == prefix if exact else _under(module, prefix))]
        if not predicates:
            raise UntrustedTypeError(full)
        parts = module.split(".")
        if any(p in _BLOCKED_PARTS or p.startswith("test_") for p in parts):
            raise UntrustedTypeError(full, "test/helper modules are never imported")
        mod = sys.modules.get(module) or importlib.import_module(module)
        obj = vars(mod).get(name)  # no module __getattr__, no lazy imports
        if not isinstance(obj, type):
            raise UntrustedTypeError(full, "only classes are admitted by prefix")
        if obj.__module__ != module:
            raise UntrustedTypeError(full, f"re-export of {_type_path(obj)}")
        if not any(pred(obj) for pred in predicates):
            raise UntrustedTypeError(full, "class does not satisfy the prefix rule")
        return obj

    def is_allowed(self, module: str, name: str) -> bool:
        try:
            self.resolve(module, name)
            return True
        except (UntrustedTypeError, ImportError):
            return False


def _compat_name(proto: int, module: str, name: str):
    """Python-2 names in protocol < 3 pickles -> Python-3 names (as pickle does)."""
    if proto < 3:
        if (module, name) in _compat_pickle.NAME_MAPPING:
            return _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    return module, name


# --------------------------------------------------------------------------
# Restricted unpicklers
# --------------------------------------------------------------------------
def _refuse(what):
    def load(self):
        raise UnsafePickleError(f"{what} opcodes are not supported by safe_load")
    return load


class _Guard:
    """Restrictions shared by the outer (joblib) and inner (object array) unpicklers.

    * find_class: allow-list check before any import; remembers what it returned.
    * REDUCE / NEWOBJ / NEWOBJ_EX / INST / OBJ: the callable must be an object
      find_class returned (not e.g. a callable instance built earlier).
    * BUILD on a global (a class or function) is refused: it would setattr on
      the class itself (monkeypatching e.g. LinearSVC.predict process-wide).
    * EXT1/2/4 (copyreg extension registry, bypasses find_class through a
      process-wide cache) and persistent ids are refused.
    """

    def _init_guard(self, policy: Policy, globals_: dict):
        self._policy = policy
        self._globals = globals_  # id -> object handed out by find_class

    def find_class(self, module, name):
        sys.audit("pickle.find_class", module, name)
        module, name = _compat_name(self.proto, module, name)
        obj = self._policy.resolve(module, name)
        self._globals[id(obj)] = obj
        return obj

    def _check_callable(self, func, opcode):
        if id(func) not in self._globals:
            raise UnsafePickleError(f"{opcode} on a callable that is not an allowed global")

    def load_reduce(self):
        self._check_callable(self.stack[-2], "REDUCE")
        pickle._Unpickler.load_reduce(self)

    def load_newobj(self):
        self._check_callable(self.stack[-2], "NEWOBJ")
        pickle._Unpickler.load_newobj(self)

    def load_newobj_ex(self):
        self._check_callable(self.stack[-3], "NEWOBJ_EX")
        pickle._Unpickler.load_newobj_ex(self)

    def _instantiate(self, klass, args):  # INST and OBJ
        self._check_callable(klass, "INST/OBJ")
        pickle._Unpickler._instantiate(self, klass, args)

    def _guarded_build(self):
        inst = self.stack[-2]
        if id(inst) in self._globals or isinstance(inst, type):
            raise UnsafePickleError(
                f"BUILD on the global {inst!r} refused (would set class attributes)")
        pickle._Unpickler.load_build(self)
        obj = self.stack[-1]
        sparse = sys.modules.get("scipy.sparse")
        if sparse is not None and sparse.issparse(obj) and hasattr(obj, "check_format"):
            # sparsetools index without bounds checks: validate indices/indptr now
            try:
                obj.check_format(full_check=True)
            except ValueError as e:
                raise UnsafePickleError(f"invalid sparse matrix state: {e}") from e

    def persistent_load(self, pid):
        raise UnsafePickleError("persistent ids are not supported by safe_load")

    @staticmethod
    def _patch_dispatch(dispatch, build):
        dispatch = dispatch.copy()
        dispatch[pickle.REDUCE[0]] = _Guard.load_reduce
        dispatch[pickle.NEWOBJ[0]] = _Guard.load_newobj
        dispatch[pickle.NEWOBJ_EX[0]] = _Guard.load_newobj_ex
        dispatch[pickle.BUILD[0]] = build
        for op in (pickle.EXT1, pickle.EXT2, pickle.EXT4):
            dispatch[op[0]] = _refuse("EXT (copyreg extension registry)")
        return dispatch


class _InnerUnpickler(_Guard, pickle._Unpickler):
    """Plain pickle stream embedded by joblib for object-dtype arrays."""

    dispatch = _Guard._patch_dispatch(pickle._Unpickler.dispatch, _Guard._guarded_build)

    def __init__(self, file, policy, globals_):
        pickle._Unpickler.__init__(self, file)
        self._init_guard(policy, globals_)


def _shared_array(shared, pid):
    """The array a persistent id ``("runtime", k)`` names: one of ``shared``, the arrays
    of the model file's runtime section, which the stream does not repeat."""
    if (shared is not None and type(pid) is tuple and len(pid) == 2 and pid[0] == "runtime"
            and type(pid[1]) is int and 0 <= pid[1] < len(shared)):
        return shared[pid[1]]
    raise UnsafePickleError("persistent ids other than the runtime section's arrays are "
                            "not supported by safe_load")


class _SafeNumpyUnpickler(_Guard, NumpyUnpickler):
    """joblib's NumpyUnpickler with the guard; reads array payloads itself."""

    def __init__(self, fobj, policy, shared=None):
        NumpyUnpickler.__init__(self, "", fobj, ensure_native_byte_order=True, mmap_mode=None)
        self._init_guard(policy, {})
        self._shared = shared

    def persistent_load(self, pid):
        return _shared_array(self._shared, pid)

    def load_build(self):
        self._guarded_build()
        if type(self.stack[-1]) is NumpyArrayWrapper:
            self.stack[-1] = self._read_array(self.stack[-1])

    dispatch = _Guard._patch_dispatch(NumpyUnpickler.dispatch, load_build)

    def _read_array(self, w):
        _check_wrapper(w)
        if w.dtype.hasobject:
            # joblib writes object arrays as a nested pickle: same restrictions
            arr = _InnerUnpickler(self.file_handle, self._policy, self._globals).load()
            if type(arr) is not np.ndarray:
                raise UnsafePickleError("object-array payload is not an ndarray")
            return arr
        return w.read(self, self.ensure_native_byte_order)  # raw bytes, no pickle


def _check_wrapper(w):
    """Validate the (untrusted) state of a NumpyArrayWrapper before using it."""
    shape = getattr(w, "shape", None)
    ok = (
        getattr(w, "subclass", None) is np.ndarray
        and isinstance(getattr(w, "dtype", None), np.dtype)
        and isinstance(shape, tuple)
        and all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0
                for d in shape)
        and getattr(w, "order", None) in ("C", "F")
        and getattr(w, "numpy_array_alignment_bytes", None) in (None, 16)
    )
    if not ok:
        raise UnsafePickleError("malformed NumpyArrayWrapper state")
    w.allow_mmap = False


def _with_stream(path, fn):
    """``fn`` on the decompressed stream of a joblib file (a path or a binary file)."""
    with contextlib.ExitStack() as stack:
        f = path if hasattr(path, "read") else stack.enter_context(open(os.fspath(path), "rb"))
        fobj, _ = stack.enter_context(_validate_fileobject_and_memmap(f, getattr(f, "name",
                                                                                 "")))
        if isinstance(fobj, str):
            raise UnsafePickleError(
                "legacy joblib (<0.10) multi-file format is not supported by safe_load")
        return fn(fobj)


class _TrustedNumpyUnpickler(NumpyUnpickler):
    """joblib's own reader (runs what the file names), resolving shared arrays."""

    def __init__(self, fobj, shared, rename=None):
        NumpyUnpickler.__init__(self, "", fobj, ensure_native_byte_order=True, mmap_mode=None)
        self._shared = shared
        self._rename = rename

    def persistent_load(self, pid):
        return _shared_array(self._shared, pid)

    def find_class(self, module, name):
        if self._rename is not None:
            module = self._rename(module)
        return NumpyUnpickler.find_class(self, module, name)


def safe_load(path, allowed_prefixes=(), allowed_names=(), trusted=False, shared=None,
              rename=None):
    """Load a joblib file, admitting only allow-listed globals.

    Parameters
    ----------
    path : str, os.PathLike or binary file object (compressed or not).
    allowed_prefixes : module prefixes (e.g. ``"framing"``) whose classes are
        admitted (classes only, defined in that module, not in test modules).
    allowed_names : extra exact globals, as "module.name" strings or objects.
    trusted : if True, skip all checks and call ``joblib.load`` (arbitrary code!).
    shared : the arrays a persistent id ``("runtime", k)`` may name (a framing model
        file's runtime section); without them, and for any other id, persistent ids are
        refused.
    rename : a function from a module name the file names to the module to look the
        global up in (classes that moved since the file was written); the allow-list
        applies to the new name.

    Raises
    ------
    UntrustedTypeError : a global is not allowed (raised before it is imported/called).
    UnsafePickleError : the stream uses a refused construct.
    """
    if trusted:
        if shared is None and rename is None:
            return joblib.load(path)
        return _with_stream(path,
                            lambda fobj: _TrustedNumpyUnpickler(fobj, shared, rename).load())
    policy = Policy(allowed_prefixes, allowed_names, rename)
    return _with_stream(path, lambda fobj: _SafeNumpyUnpickler(fobj, policy, shared).load())
