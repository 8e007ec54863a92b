"""Typed schemas of the ``framing-train`` config: one dataclass per group.

Hydra validates every composed config against these (see :func:`framing.config.tree.register`):
an unknown key, a wrong type (``model.C=abc``) or a value outside a choice
(``model.family=bogus``) fails while the config is composed. Range and consistency checks
that types cannot express (``eval.n_splits=1``) run in ``__post_init__`` when the config
becomes these objects, before any data is read. Only the standard library is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from enum import Enum, StrEnum
from typing import Any

from framing.core.errors import FramingConfigError


class Source(StrEnum):
    """Where a corpus comes from."""

    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"
    hub = "hub"


class Kind(StrEnum):
    """A task's kind: any number of labels per record, or exactly one."""

    multilabel = "multilabel"
    multiclass = "multiclass"


class Family(StrEnum):
    """Linear model families (see :class:`framing.learn.estimators.LinearTextClassifier`)."""

    logreg = "logreg"
    linear_svm = "linear_svm"
    sgd = "sgd"
    ridge = "ridge"
    cnb = "cnb"
    ensemble = "ensemble"
    prior = "prior"
    auto = "auto"


class Strategy(StrEnum):
    """How evaluation splits the corpus."""

    auto = "auto"
    logo = "logo"
    group_kfold = "group_kfold"
    stratified_kfold = "stratified_kfold"
    kfold = "kfold"
    fold_column = "fold_column"
    split = "split"


class Thresholds(StrEnum):
    """Multi-label decision thresholds: tuned on inner folds, or 0.5."""

    tune = "tune"
    fixed = "fixed"


class IssuesMethod(StrEnum):
    """How label issues are found after cross-validation (:mod:`framing.evaluate.issues`)."""

    confident_learning = "confident_learning"
    cleanlab = "cleanlab"
    off = "off"


def _fail(key: str, msg: str) -> None:
    raise FramingConfigError(f"{key}: {msg}")


def _check_int(key: str, value: int, low: int) -> None:
    if value < low:
        _fail(key, f"{value} is too small; give at least {low}.")


# -- data --------------------------------------------------------------------------------
@dataclass
class TaskConfig:
    """One labelling task: name, column, kind, label set (null: inferred from the data)."""

    name: str = "label"
    column: str | None = None
    kind: Kind = Kind.multiclass
    labels: list[str] | None = None
    separator: str | None = None


@dataclass
class DataConfig:
    """Where a corpus is and which columns mean what."""

    source: Source = Source.jsonl
    path: str = "???"
    name: str | None = None
    text_column: str = "text"
    id_column: str | None = "id"
    group_column: str | None = None
    fold_column: str | None = None
    split_column: str | None = None
    hub_config: str | None = None
    hub_splits: dict[str, str] | None = None
    hub_files: dict[str, str] | None = None
    tasks: list[TaskConfig] = field(default_factory=lambda: [TaskConfig()])

    def __post_init__(self):
        if not self.tasks:
            _fail("data.tasks", "empty; define at least one task (name, column, kind, labels).")
        from framing.core.tasks import TaskSpec

        for t in self.tasks:  # names MLflow and files can take, no repeated labels
            TaskSpec.from_config(t)
        names = [t.name for t in self.tasks]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            _fail("data.tasks", f"task names {dup} are repeated; give each task its own name.")
        if self.hub_splits and set(self.hub_splits) - {"train", "test"}:
            _fail("data.hub_splits", "keys must be train and test, e.g. "
                  "{train: train, test: validation}.")

    @property
    def corpus_name(self) -> str:
        """The corpus's name: ``name``, else the file (or folder) name without suffix."""
        if self.name:
            return str(self.name)
        path = str(self.path).rstrip("/")
        stem = path.rsplit("/", 1)[-1]
        return stem.split(".")[0] if stem and stem != "???" else "corpus"


# -- features ----------------------------------------------------------------------------
@dataclass
class WordFeatures:
    """scikit-learn ``TfidfVectorizer`` on words."""

    enabled: bool = True
    weight: float = 1.0
    ngram_range: list[int] = field(default_factory=lambda: [1, 2])
    min_df: int = 1
    max_df: float = 1.0
    max_features: int | None = None
    sublinear_tf: bool = True
    lowercase: bool = True
    strip_accents: str | None = None
    stop_words: str | None = None
    token_pattern: str = r"(?u)\b\w\w+\b"


@dataclass
class CharFeatures:
    """``TfidfVectorizer`` on character n-grams inside word boundaries."""

    enabled: bool = False
    weight: float = 1.0
    analyzer: str = "char_wb"
    ngram_range: list[int] = field(default_factory=lambda: [2, 5])
    min_df: int = 1
    # the most frequent n-grams kept: bounded memory on a large corpus (None: all)
    max_features: int | None = 262144
    sublinear_tf: bool = True
    lowercase: bool = True


@dataclass
class HashingFeatures:
    """``HashingVectorizer`` (+ TF-IDF): no vocabulary, constant memory."""

    enabled: bool = False
    weight: float = 1.0
    n_features: int = 1048576
    ngram_range: list[int] = field(default_factory=lambda: [1, 2])
    lowercase: bool = True
    tfidf: bool = True
    sublinear_tf: bool = True


@dataclass
class CodebookFeatures:
    """Per-label matches of the codebook terms (the ``codebook`` group)."""

    enabled: bool = True
    weight: float = 1.0
    binary: bool = False


@dataclass
class StyleFeatures:
    """Tone cues (the ``cues`` group) as rates per token, scaled to [0, 1]; used when the
    corpus has one of ``tasks``."""

    enabled: bool = True
    weight: float = 1.0
    tasks: list[str] = field(default_factory=lambda: ["tone"])
    quotes: bool = True
    numbers: bool = True
    dates: bool = True
    length: bool = True


@dataclass
class VoiceFeatures:
    """The guidelines' sentence-level tone rule (word lists: the ``voice`` group)."""

    enabled: bool = False
    weight: float = 1.0
    label: str = "tone:promotional"
    scorer: str | None = None
    scorer_label: str = "label:subjective"
    cut: float = 0.5
    score_headlines: bool = False


@dataclass
class AuxFeatures:
    """Scores of other framing models (shipped names or model files) as features."""

    enabled: bool = False
    weight: float = 1.0
    models: list[str] = field(default_factory=list)
    sentences: bool = False
    own_voice: bool = False


@dataclass
class FeaturesConfig:
    """Feature families, joined side by side in this order."""

    word: WordFeatures = field(default_factory=WordFeatures)
    char: CharFeatures = field(default_factory=CharFeatures)
    hashing: HashingFeatures = field(default_factory=HashingFeatures)
    codebook: CodebookFeatures = field(default_factory=CodebookFeatures)
    style: StyleFeatures = field(default_factory=StyleFeatures)
    voice: VoiceFeatures = field(default_factory=VoiceFeatures)
    aux: AuxFeatures = field(default_factory=AuxFeatures)

    def __post_init__(self):
        for name in ("word", "char", "hashing"):
            r = getattr(self, name).ngram_range
            if len(r) != 2 or not 1 <= r[0] <= r[1]:
                _fail(f"features.{name}.ngram_range", f"{list(r)} is not [low, high] with "
                      "1 <= low <= high.")
        if not 0.0 <= self.voice.cut <= 1.0:
            _fail("features.voice.cut", f"{self.voice.cut} must be in [0, 1].")
        if self.aux.enabled and not self.aux.models:
            _fail("features.aux.models", "empty; name at least one model, e.g. "
                  "'features.aux.models=[subjectivity]'.")
        if not any(getattr(self, f.name).enabled for f in fields(self)):
            _fail("features", "every feature family is switched off; enable at least one.")

    def enabled(self) -> list[str]:
        """Names of the families switched on, in order."""
        return [f.name for f in fields(self) if getattr(self, f.name).enabled]


# -- model -------------------------------------------------------------------------------
@dataclass
class MemberConfig:
    """One member of an averaged ensemble (``family: ensemble``)."""

    family: Family = Family.logreg
    C: float = 1.0
    class_weight: str | None = "balanced"
    nb_weight: bool = False
    nb_alpha: float = 1.0
    nb_beta: float = 1.0
    nb_binarize: bool = False
    cnb_alpha: float = 1.0
    max_iter: int = 2000
    dual: Any = "auto"

    def __post_init__(self):
        _check_member("model.members[]", self.family, self.C, self.dual)


#: The families an ensemble's member may be (linear models of the features).
MEMBER_FAMILIES = ("logreg", "linear_svm", "sgd", "ridge", "cnb")


def _check_member(where: str, family: Any, C: Any, dual: Any) -> None:
    """An ensemble member's family, C and dual, checked before any data is read."""
    fam = str(getattr(family, "value", family))
    if fam not in MEMBER_FAMILIES:
        _fail(f"{where}.family", f"{fam!r}: a member of an ensemble is one of "
              f"{list(MEMBER_FAMILIES)}.")
    if isinstance(C, bool) or not isinstance(C, int | float) or C <= 0:
        _fail(f"{where}.C", f"{C!r} must be a positive number.")
    _check_dual(f"{where}.dual", dual)


def _check_members(where: str, members: Any) -> None:
    """A model=auto candidate's members: a non-empty list of member settings."""
    if not isinstance(members, list | tuple) or not members:
        _fail(where, f"{members!r}: give a non-empty list of members, e.g. [{{family: cnb}}, "
              "{family: logreg, C: 10}].")
    known = {f.name for f in fields(MemberConfig)}
    for j, m in enumerate(members):
        at = f"{where}[{j}]"
        if not isinstance(m, dict):
            _fail(at, f"{m!r}: each member is a mapping, e.g. {{family: logreg, C: 10}}.")
        bad = sorted(set(m) - known)
        if bad:
            _fail(at, f"unknown keys {bad}; a member's settings are {sorted(known)}.")
        _check_member(at, m.get("family", "logreg"), m.get("C", 1.0), m.get("dual", "auto"))


class SelectRule(StrEnum):
    """How ``model=auto`` picks among candidates' inner scores."""

    one_se = "one_se"
    best = "best"


@dataclass
class SelectConfig:
    """How ``model=auto`` scores its candidates (``conf/model/auto.yaml``)."""

    splits: int = 3
    rule: SelectRule = SelectRule.one_se
    halving_from: int = 3000
    n_boot: int = 200
    min_examples: int = 5

    def __post_init__(self):
        _check_int("model.select.splits", self.splits, 2)
        _check_int("model.select.halving_from", self.halving_from, 10)
        _check_int("model.select.n_boot", self.n_boot, 1)
        _check_int("model.select.min_examples", self.min_examples, 1)


#: The feature families a model=auto candidate may name.
FAMILY_NAMES = ("word", "char", "hashing", "codebook", "style", "voice", "aux")


def _check_candidates(cands: list[dict[str, Any]], known: set[str],
                      shared_members: bool = False) -> None:
    names = []
    for i, c in enumerate(cands):
        where = f"model.candidates[{i}]"
        if not isinstance(c, dict) or not c.get("name"):
            _fail(where, "each candidate needs a name, e.g. {name: logreg_c10, family: "
                  "logreg, C: 10}.")
        names.append(str(c["name"]))
        bad = sorted(set(c) - known - {"name", "families"})
        if bad:
            _fail(f"{where} ({c['name']})", f"unknown keys {bad}; known: {sorted(known)} and "
                  "name, families.")
        fam = c.get("family", "prior")
        if str(fam) not in {f.value for f in Family} - {"auto"}:
            _fail(f"{where}.family", f"{fam!r}: use one of "
                  f"{sorted({f.value for f in Family} - {'auto'})}.")
        if c.get("members") is not None:
            _check_members(f"{where}.members", c["members"])
        elif str(fam) == "ensemble" and not shared_members:
            _fail(f"{where}.members", "an ensemble candidate needs its members, e.g. "
                  "members: [{family: cnb}, {family: logreg, C: 10}].")
        fams = c.get("families")
        if fams is not None and (not isinstance(fams, list | tuple) or not fams
                                 or set(fams) - set(FAMILY_NAMES)):
            _fail(f"{where}.families", f"{fams!r}: a non-empty list of {list(FAMILY_NAMES)}, "
                  "or null for every family of the run.")
        for k, low, what in (("C", 1e-12, "positive"), ("prior_strength", 0, "non-negative")):
            if k in c and (not isinstance(c[k], int | float) or c[k] < low):
                _fail(f"{where}.{k}", f"{c[k]!r} must be a {what} number.")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        _fail("model.candidates", f"names {dup} are given twice; name each candidate once.")


def _check_dual(key: str, value: Any) -> None:
    if value not in ("auto", True, False) or (value in (0, 1) and not isinstance(value, bool)):
        _fail(key, f"{value!r}: use auto, true or false.")


#: Keys of ``ModelConfig`` that are not a family's parameters.
NOT_PARAMS = ("task_defaults", "per_task", "candidates", "select")


@dataclass
class ModelConfig:
    """The classifier of every task; ``task_defaults`` and ``per_task`` set values for
    one task.

    A family reads only its own keys: ``C``, ``class_weight`` and ``max_iter`` (logreg,
    linear_svm, sgd, ridge), ``dual`` (logreg, linear_svm: auto, true or false),
    ``nb_*`` (NB weighting of logreg and linear_svm), ``calibration_cv`` (linear_svm),
    ``sgd_loss`` and ``alpha`` (sgd), ``cnb_alpha`` (cnb), ``members`` and
    ``keep_members`` (ensemble), ``prior_*`` and ``C`` (prior: the rule features of
    ``prior_family`` named ``<task>:<label>`` carry each label's prior).
    ``random_state`` null: the run's ``seed``.

    ``task_defaults`` (shipped with a model config: tone's rule is the sentence rule)
    applies to a task of that name where the corpus has one and is unused otherwise;
    ``per_task`` (the user's, empty in every shipped config) applies on top and must
    name tasks of the corpus (:meth:`check_tasks`).
    """

    family: Family = Family.logreg
    C: float = 1.0
    class_weight: str | None = "balanced"
    max_iter: int = 2000
    dual: Any = "auto"
    nb_weight: bool = False
    nb_alpha: float = 1.0
    nb_beta: float = 1.0
    nb_binarize: bool = False
    calibration_cv: int = 3
    sgd_loss: str = "log_loss"
    alpha: float | None = None
    cnb_alpha: float = 1.0
    members: list[MemberConfig] = field(default_factory=list)
    keep_members: bool = False
    prior_family: str = "codebook"
    prior_weight: float = 4.0
    prior_intercept: float = -2.0
    prior_strength: float = 1.0
    free_class_weight: str | None = "balanced"
    random_state: int | None = None
    # model=auto: the candidates (each a name, the feature families it reads and the
    # keys above that differ) and how they are scored
    candidates: list[dict[str, Any]] = field(default_factory=list)
    select: SelectConfig = field(default_factory=SelectConfig)
    task_defaults: dict[str, Any] = field(default_factory=dict)
    per_task: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.C <= 0:
            _fail("model.C", f"{self.C} must be positive.")
        for key in ("class_weight", "free_class_weight"):
            if getattr(self, key) not in (None, "balanced"):
                _fail(f"model.{key}", f"{getattr(self, key)!r}: use balanced or null.")
        _check_dual("model.dual", self.dual)
        if self.prior_strength < 0:
            _fail("model.prior_strength", f"{self.prior_strength} must be >= 0.")
        if self.family == Family.ensemble and not self.members:
            _fail("model.members", "an ensemble needs at least one member.")
        if self.family == Family.auto and not self.candidates:
            _fail("model.candidates", "model=auto needs at least one candidate.")
        _check_candidates(self.candidates, {f.name for f in fields(self)} - set(NOT_PARAMS),
                          bool(self.members))
        known = {f.name for f in fields(self)} - {*NOT_PARAMS, "members"}
        for group in ("task_defaults", "per_task"):
            for task, over in (getattr(self, group) or {}).items():
                if over is not None and not isinstance(over, dict):
                    _fail(f"model.{group}.{task}", f"{over!r}: give the task's settings, "
                          f"e.g. model.{group}.{task}.C=10.")
                bad = sorted(set(over or {}) - known)
                if bad:
                    _fail(f"model.{group}.{task}",
                          f"unknown keys {bad}; known: {sorted(known)}.")

    def check_tasks(self, tasks: Sequence[str]) -> None:
        """Refuse a ``per_task`` entry that names no task of ``tasks`` (the corpus's):
        it would be ignored without a word."""
        unknown = [t for t in (self.per_task or {}) if t not in tasks]
        if unknown:
            first = unknown[0]
            _fail(f"model.per_task.{first}",
                  f"{first!r} is no task of this corpus (its tasks: {', '.join(tasks)}); "
                  f"name one of them (+model.per_task.{tasks[0] if tasks else 'TASK'}.KEY="
                  f"VALUE) or drop the entry (~model.per_task.{first}). Settings of a task "
                  "for whichever corpus has it go in model.task_defaults.")

    def params(self, task: str | None = None) -> dict[str, Any]:
        """The family's keyword parameters, with the task's overrides applied."""
        out = {f.name: getattr(self, f.name) for f in fields(self)
               if f.name not in NOT_PARAMS}
        out.update((self.task_defaults or {}).get(task) or {})
        out.update((self.per_task or {}).get(task) or {})
        out["family"] = str(Family(out["family"]).value)
        out["members"] = [{k: (str(v.value) if isinstance(v, Enum) else v)
                           for k, v in vars(m).items()} if not isinstance(m, dict) else m
                          for m in out["members"]]
        return out


# -- evaluation --------------------------------------------------------------------------
BASELINES = ("majority", "codebook")


@dataclass
class EvalConfig:
    """How the model is scored (see ``conf/eval/default.yaml``)."""

    strategy: Strategy = Strategy.auto
    n_splits: int = 5
    max_logo_groups: int = 10
    n_boot: int = 1000
    thresholds: Thresholds = Thresholds.tune
    inner_splits: int = 3
    baselines: list[str] = field(default_factory=lambda: list(BASELINES))
    inner_max_records: int = 5000
    n_jobs: Any = "auto"
    ovr_n_jobs: Any = None
    optimize: str | None = None
    label_issues: IssuesMethod = IssuesMethod.confident_learning
    learning_curve: bool = False
    curve_draws: int = 5
    curve_sizes: list[int] | None = None

    def __post_init__(self):
        _check_int("eval.n_splits", self.n_splits, 2)
        _check_int("eval.curve_draws", self.curve_draws, 1)
        if self.curve_sizes is not None and (not self.curve_sizes or min(self.curve_sizes) < 1):
            _fail("eval.curve_sizes", f"{self.curve_sizes!r}: give positive numbers of "
                  "articles, e.g. [1, 2, 4, 8], or null.")
        _check_int("eval.inner_splits", self.inner_splits, 2)
        _check_int("eval.n_boot", self.n_boot, 0)
        _check_int("eval.max_logo_groups", self.max_logo_groups, 2)
        bad = [b for b in self.baselines if b not in BASELINES]
        if bad:
            _fail("eval.baselines", f"{bad} unknown; choose from {list(BASELINES)}.")
        if self.n_jobs != "auto" and (isinstance(self.n_jobs, bool) or not isinstance(
                self.n_jobs, int) or self.n_jobs == 0 or self.n_jobs < -1):
            _fail("eval.n_jobs", f"{self.n_jobs!r}: give auto, -1 or a positive number.")
        if self.ovr_n_jobs not in (None, "auto") and (
                isinstance(self.ovr_n_jobs, bool) or not isinstance(self.ovr_n_jobs, int)
                or self.ovr_n_jobs == 0 or self.ovr_n_jobs < -1):
            _fail("eval.ovr_n_jobs", f"{self.ovr_n_jobs!r}: give null, auto, -1 or a positive "
                  "number.")


# -- the rest ----------------------------------------------------------------------------
@dataclass
class TrackingConfig:
    """Where runs are logged (MLflow); ``register`` also registers the logged model under
    that name in the model registry."""

    enabled: bool = True
    uri: str | None = None
    artifact_location: str | None = None
    log_model: bool = True
    register: str | None = None


@dataclass
class StreamConfig:
    """The streaming path (``experiment=streaming``): chunks and a hashed hold-out share."""

    enabled: bool = False
    chunk_size: int = 10000
    epochs: int = 1
    holdout: float = 0.1
    progress: bool = True

    def __post_init__(self):
        _check_int("stream.chunk_size", self.chunk_size, 1)
        _check_int("stream.epochs", self.epochs, 1)
        if not 0.0 <= self.holdout < 1.0:
            _fail("stream.holdout", f"{self.holdout} must be in [0, 1).")


@dataclass
class OutputConfig:
    """Where the model is written. ``model_path`` null: ``<paths.models>/<name>.joblib``,
    named by what made it (the seeds' default: ``framing``; a digest of the configuration
    and data added when the command line changes the model); a model made otherwise
    there is kept, the new one written beside it, unless ``overwrite``. A ``model_path``
    given is replaced, except a model of another corpus or task set unless
    ``overwrite`` (:mod:`framing.cli.output`)."""

    model_path: str | None = None
    write_model: bool = True
    overwrite: bool = False


@dataclass
class PathsConfig:
    """Every path comes from here."""

    root: str = "${framing_root:}"
    models: str = "${framing_models:}"
    output_dir: str | None = "${hydra:runtime.output_dir}"
    shared: str = "${oc.env:FRAMING_SHARED,${framing_beside:${paths.root},shared}}"
    benchmarks: str = "${oc.env:FRAMING_BENCHMARKS,${paths.shared}/benchmarks}"


@dataclass
class TrainConfig:
    """The whole ``framing-train`` config (``conf/train.yaml`` composes it)."""

    paths: PathsConfig = field(default_factory=PathsConfig)
    data: DataConfig = field(default_factory=DataConfig)
    test: DataConfig | None = None
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    codebook: dict[str, list[str]] = field(default_factory=dict)
    cues: dict[str, list[str]] = field(default_factory=dict)
    voice: dict[str, list[str]] = field(default_factory=dict)
    stream: StreamConfig = field(default_factory=StreamConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    seed: int = 0
    run_name: str | None = None
    experiment_name: str | None = None
    log_level: str = "INFO"

    @property
    def mlflow_experiment(self) -> str:
        """The MLflow experiment of the run: ``experiment_name``, else one per corpus."""
        return self.experiment_name or f"framing/{self.data.corpus_name}"
