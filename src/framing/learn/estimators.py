"""Linear classifiers for text features, and decision thresholds for multi-label tasks.

:class:`LinearTextClassifier` puts the model families behind one estimator with
probabilities, ``coef_`` in the input feature space and per-feature contributions, so that
evaluation, thresholds and explanations treat every family alike. Multi-label tasks wrap
it in scikit-learn's ``OneVsRestClassifier``. Only scikit-learn, numpy and scipy are
imported here: a saved predictor unpickles these classes.

One module, over 600 lines: the linear estimators share their fitting helpers (the
prior, averaging, compact weights) and the thresholds are tuned on their scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

FAMILIES = ("logreg", "linear_svm", "sgd", "ridge", "cnb")  # and "ensemble" of these


#: A fitted coefficient matrix with more entries than this is kept in float32: half the
#: memory and model file of a wide vocabulary or many labels, scores within about 1e-6.
COMPACT_FROM = 1 << 16


def compact(coef: np.ndarray) -> np.ndarray:
    """``coef`` in float32 when it has more than :data:`COMPACT_FROM` entries."""
    coef = np.asarray(coef)
    if coef.dtype == np.float64 and coef.size > COMPACT_FROM:
        return coef.astype(np.float32)
    return coef


def _compact_inner(model) -> None:
    """Compact the coefficients a fitted scikit-learn linear model keeps; naive Bayes
    keeps only the log-probabilities it predicts with (not its counts)."""
    if isinstance(model, ComplementNB):
        if model.feature_log_prob_.size > COMPACT_FROM:
            model.feature_log_prob_ = compact(model.feature_log_prob_)
            for name in ("feature_count_", "feature_all_"):
                model.__dict__.pop(name, None)
        return
    coef = getattr(model, "coef_", None)
    if isinstance(coef, np.ndarray):
        model.coef_ = compact(coef)


def _scores_to_proba(d: np.ndarray) -> np.ndarray:
    """Sigmoid of binary scores (n,), softmax of multiclass scores (n, k)."""
    if d.ndim == 1:
        p = expit(d)
        return np.column_stack([1 - p, p])
    return softmax(d, axis=1)


def _fit_input(est, X, y):
    """Validated (X, y) of a classifier's ``fit``; sets ``classes_``, refuses one class."""
    X, y = validate_data(est, X, y, accept_sparse="csr", dtype=np.float64)
    check_classification_targets(y)
    est.classes_ = np.unique(y)
    if len(est.classes_) < 2:
        raise ValueError("Classifier can't train when only one class is present: "
                         f"{est.classes_}")
    return X, y


def _scores_to_class(classes: np.ndarray, d: np.ndarray) -> np.ndarray:
    """The class of each row's highest score (binary: positive score is ``classes[1]``)."""
    return classes[(d > 0).astype(int) if d.ndim == 1 else np.argmax(d, axis=1)]


class LinearTextClassifier(ClassifierMixin, BaseEstimator):
    """One linear model family with probabilities and optional NB feature weighting.

    Parameters
    ----------
    family : {"logreg", "linear_svm", "sgd", "ridge", "cnb"}, default="logreg"
        Logistic regression, linear SVM (probabilities by Platt scaling on internal
        cross-validation), SGD, ridge classifier, or complement naive Bayes.
    C : float, default=1.0
        Inverse regularisation strength (logreg, linear_svm); ``alpha = 1 / C`` for
        ridge, ``alpha = 1 / (C * n_samples)`` for sgd.
    class_weight : {"balanced"} or None, default="balanced"
        Class weighting (not used by cnb).
    nb_weight : bool, default=False
        Scale each feature by its naive-Bayes log-count ratio before the linear model
        (the NBSVM idea of Wang & Manning 2012); one-vs-rest for more than two classes.
    nb_alpha : float, default=1.0
        Smoothing of the log-count ratio.
    nb_beta : float, default=1.0
        Interpolation between the mean weight magnitude (0) and the learned weights
        (1); Wang & Manning use 0.25 with an SVM.
    nb_binarize : bool, default=False
        Use feature presence (0/1) instead of feature values, as in the original NBSVM.
    sgd_loss : str, default="log_loss"
        Loss of the sgd family.
    alpha : float, optional
        Regularisation of the sgd family; None: ``1 / (C * n_samples)``.
    cnb_alpha : float, default=1.0
        Smoothing of complement naive Bayes.
    calibration_cv : int, default=3
        Folds for the linear SVM's Platt scaling (reduced for small classes); 0 turns
        calibration off (probabilities are then a sigmoid of the SVM scores).
    max_iter : int, default=2000
        Iteration limit of the iterative solvers.
    dual : {"auto", True, False}, default="auto"
        Solve the dual problem of two-class logistic regression (liblinear) and of the
        linear SVM; ``"auto"``: when there are more features than examples, as is usual
        for text, where the dual solver reaches the same optimum (within its tolerance)
        in about half the time.
    random_state : int, default=0
        Seed of the solvers that shuffle.
    """

    def __init__(self, family: str = "logreg", C: float = 1.0,
                 class_weight: str | None = "balanced", nb_weight: bool = False,
                 nb_alpha: float = 1.0, nb_beta: float = 1.0, nb_binarize: bool = False,
                 sgd_loss: str = "log_loss", alpha: float | None = None,
                 cnb_alpha: float = 1.0, calibration_cv: int = 3, max_iter: int = 2000,
                 dual: str | bool = "auto", random_state: int = 0):
        self.family = family
        self.C = C
        self.class_weight = class_weight
        self.nb_weight = nb_weight
        self.nb_alpha = nb_alpha
        self.nb_beta = nb_beta
        self.nb_binarize = nb_binarize
        self.sgd_loss = sgd_loss
        self.alpha = alpha
        self.cnb_alpha = cnb_alpha
        self.calibration_cv = calibration_cv
        self.max_iter = max_iter
        self.dual = dual
        self.random_state = random_state

    # -- fitting -----------------------------------------------------------------------
    def _dual(self, shape: tuple[int, int]) -> bool:
        if self.dual == "auto":
            return shape[1] > shape[0]
        if isinstance(self.dual, bool | np.bool_):
            return bool(self.dual)
        raise ValueError(f"dual={self.dual!r}: use 'auto', True or False")

    def _base(self, shape: tuple[int, int], y: np.ndarray, cw="default"):
        cw = self.class_weight if cw == "default" else cw
        n_samples = shape[0]
        if self.family == "logreg":
            binary = len(np.unique(y)) == 2
            # Several classes: the multinomial loss by Newton-CG, which reaches the optimum
            # in a handful of Hessian-free Newton steps where L-BFGS takes dozens of
            # passes over every column and may stop short of it at a large C.
            return LogisticRegression(C=self.C, class_weight=cw, max_iter=self.max_iter,
                                      solver="liblinear" if binary else "newton-cg",
                                      dual=binary and self._dual(shape),
                                      random_state=self.random_state)
        if self.family == "linear_svm":
            svc = LinearSVC(C=self.C, class_weight=cw, max_iter=self.max_iter,
                            dual=self._dual(shape), random_state=self.random_state)
            smallest = int(np.min(np.unique(y, return_counts=True)[1]))
            cv = min(self.calibration_cv, smallest)
            if cv < 2:  # off, or too few examples of a class to calibrate on
                return svc
            return CalibratedClassifierCV(svc, cv=cv, method="sigmoid", ensemble=False)
        if self.family == "sgd":
            alpha = self.alpha if self.alpha is not None else 1.0 / (self.C * n_samples)
            return SGDClassifier(loss=self.sgd_loss, alpha=alpha,
                                 class_weight=cw, max_iter=self.max_iter, tol=1e-4,
                                 random_state=self.random_state)
        if self.family == "ridge":
            return RidgeClassifier(alpha=1.0 / self.C, class_weight=cw)
        if self.family == "cnb":
            return ComplementNB(alpha=self.cnb_alpha)
        raise ValueError(f"unknown model family {self.family!r}; use one of {FAMILIES}")

    def _prepare(self, X):
        if self.nb_binarize and sp.issparse(X):
            X = X.copy()
            X.data = (X.data != 0).astype(X.dtype)
        elif self.nb_binarize:
            X = (np.asarray(X) != 0).astype(float)
        return X

    def _nb_ratio(self, X, y01: np.ndarray) -> np.ndarray:
        pos = np.asarray(X[y01 == 1].sum(axis=0)).ravel() + self.nb_alpha
        neg = np.asarray(X[y01 == 0].sum(axis=0)).ravel() + self.nb_alpha
        return np.log(pos / pos.sum()) - np.log(neg / neg.sum())

    def _fit_one(self, X, y, sample_weight=None):
        """Fit the base model on (X, y); return it with its coef and intercept."""
        if sample_weight is None and self.family == "linear_svm" and self.class_weight:
            # As sample weights, class weights also reach the Platt calibration.
            sample_weight = compute_sample_weight(self.class_weight, y)
        if sample_weight is None:
            model = self._base(X.shape, y).fit(X, y)
        else:
            model = self._base(X.shape, y, cw=None).fit(X, y, sample_weight=sample_weight)
        inner = model
        if isinstance(model, CalibratedClassifierCV):
            inner = model.calibrated_classifiers_[0].estimator
        n_iter = getattr(inner, "n_iter_", None)
        self.n_iter_ = max(self.n_iter_, int(np.max(n_iter)) if n_iter is not None else 1)
        if isinstance(inner, ComplementNB):
            flp = inner.feature_log_prob_
            coef = flp[1:] - flp[0] if flp.shape[0] == 2 else flp
            return model, coef, np.zeros(coef.shape[0])
        return model, np.atleast_2d(inner.coef_), np.atleast_1d(inner.intercept_)

    def fit(self, X, y):
        """Fit on features ``X`` and labels ``y``; returns ``self``."""
        X, y = _fit_input(self, X, y)
        if self.family == "cnb" or self.nb_weight:
            low = X.min() if not sp.issparse(X) else (X.data.min() if X.nnz else 0)
            if low < 0:
                raise ValueError("Negative values in data passed to LinearTextClassifier: "
                                 "naive-Bayes weighting and complement naive Bayes need "
                                 "non-negative features (counts, TF-IDF).")
        Xp = self._prepare(X)
        self.n_iter_ = 0  # the most iterations any underlying fit took
        if not self.nb_weight:
            self.model_, coef, self.intercept_ = self._fit_one(Xp, y)
            _compact_inner(self.model_)
            inner = getattr(self.model_, "coef_", None)
            # the inner model's own array where it is the same matrix (stored once)
            self.coef_ = np.atleast_2d(inner) if inner is not None and np.shape(
                np.atleast_2d(inner)) == coef.shape and not isinstance(
                self.model_, ComplementNB) else compact(coef)
            self.nb_ratio_ = None
            return self
        binary = len(self.classes_) == 2
        targets = [self.classes_[1]] if binary else list(self.classes_)
        self.models_, ratios, coefs, intercepts = [], [], [], []
        for c in targets:
            y01 = (y == c).astype(int)
            r = self._nb_ratio(Xp, y01)
            Xr = Xp.multiply(r).tocsr() if sp.issparse(Xp) else Xp * r
            # Class weights refer to the original classes: pass them as sample weights.
            sw = None
            if isinstance(self.class_weight, dict):
                sw = compute_sample_weight(self.class_weight, y)
            elif self.class_weight == "balanced":
                sw = compute_sample_weight("balanced", y01)
            model, w, b = self._fit_one(Xr, y01, sw)
            w = w.ravel()
            if self.nb_beta != 1.0:
                w = (1 - self.nb_beta) * np.abs(w).mean() + self.nb_beta * w
            _compact_inner(model)
            self.models_.append(model)
            ratios.append(r)
            coefs.append(w * r)
            intercepts.append(b[0])
        self.nb_ratio_ = compact(np.vstack(ratios))
        self.coef_ = compact(np.vstack(coefs))
        self.intercept_ = np.asarray(intercepts)
        return self

    # -- prediction --------------------------------------------------------------------
    def _calibrated(self) -> bool:
        return not self.nb_weight and isinstance(self.model_, CalibratedClassifierCV)

    def decision_function(self, X):
        """Scores: shape (n,) for two classes, (n, n_classes) otherwise.

        For the calibrated SVM these are the log-odds (log-probabilities) of the calibrated
        probabilities, so that scores, probabilities and predictions agree; elsewhere the
        linear scores ``X @ coef_.T + intercept_``.
        """
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        if self._calibrated():
            p = np.clip(self.model_.predict_proba(X), 1e-12, 1 - 1e-12)
            return np.log(p[:, 1] / p[:, 0]) if p.shape[1] == 2 else np.log(p)
        d = self._prepare(X) @ self.coef_.T + self.intercept_
        d = np.asarray(d)
        return d.ravel() if d.shape[1] == 1 else d

    def predict_proba(self, X):
        """Class probabilities, columns in ``classes_`` order.

        Logistic regression, SGD with a probabilistic loss, the calibrated SVM and naive
        Bayes give their own probabilities; otherwise a sigmoid (softmax) of the scores.
        """
        check_is_fitted(self, "coef_")
        if not self.nb_weight and hasattr(self.model_, "predict_proba"):
            X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
            return self.model_.predict_proba(self._prepare(X))
        return _scores_to_proba(self.decision_function(X))

    def predict(self, X):
        """The class with the highest linear score (positive score: ``classes_[1]``)."""
        d = self.decision_function(X)  # checks fitted state before classes_ is read
        return _scores_to_class(self.classes_, d)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = self.family == "cnb" or self.nb_weight
        return tags

    def contributions(self, x) -> np.ndarray:
        """Per-feature contributions to the scores of one row: (n_coef_rows, n_features)."""
        check_is_fitted(self, "coef_")
        x = self._prepare(sp.csr_matrix(x))
        return np.asarray(x.multiply(self.coef_).todense())


class AveragedLinear(ClassifierMixin, BaseEstimator):
    """The average of several linear models' log-odds: itself one linear model.

    Each member is a :class:`LinearTextClassifier`; its scores are log-odds (logistic
    regression, NB-weighted logistic regression) or log-likelihood ratios (complement
    naive Bayes). The ensemble's score is their mean, so ``coef_`` and ``intercept_`` are
    the members' means and explanations stay exact; probabilities are the sigmoid
    (softmax) of the mean score. Averaging a discriminative model with naive Bayes is the
    idea behind NBSVM's interpolation (Wang & Manning 2012).

    Parameters
    ----------
    members : list of dict
        Keyword parameters of each member :class:`LinearTextClassifier`.
    keep_members : bool, default=False
        Keep each fitted member in ``estimators_``. Off, the ensemble keeps only the mean
        weights, which score exactly as the members would: one weight vector per class
        instead of several per member (a member whose scores are not linear in the
        features — a calibrated SVM, binarised features — is kept all the same).

    Attributes
    ----------
    coef_, intercept_ : ndarray
        The mean of the members' weights and intercepts.
    linear_ : bool
        Whether scores are ``X @ coef_.T + intercept_`` exactly (every member linear).
    n_iter_ : ndarray of int
        The most solver iterations each member took.
    estimators_ : list of LinearTextClassifier
        The fitted members (with ``keep_members``, or when a member is not linear).
    """

    def __init__(self, members: list[dict[str, Any]] | None = None,
                 keep_members: bool = False):
        self.members = members
        self.keep_members = keep_members

    @staticmethod
    def _may_be_nonlinear(member: Mapping[str, Any]) -> bool:
        """Whether a member's scores may not be linear in the features: binarised
        features, or a linear SVM calibrated by Platt scaling."""
        m = LinearTextClassifier(**dict(member))
        return m.nb_binarize or (m.family == "linear_svm" and not m.nb_weight
                                 and m.calibration_cv >= 2)

    def fit(self, X, y):
        """Fit every member on (X, y); returns ``self``."""
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64)
        check_classification_targets(y)
        members = self.members or [{"family": "logreg"}]
        keep = self.keep_members or any(self._may_be_nonlinear(m) for m in members)
        kept, coef, intercept, n_iter = [], None, None, []
        for m in members:  # one member's weights alive at a time unless kept
            e = LinearTextClassifier(**dict(m)).fit(X, y)
            self.classes_ = e.classes_
            w = np.asarray(e.coef_, dtype=np.float64)
            coef = w if coef is None else coef + w
            intercept = e.intercept_ if intercept is None else intercept + e.intercept_
            n_iter.append(e.n_iter_)
            if keep:
                kept.append(e)
        self.coef_ = compact(coef / len(members))
        self.intercept_ = np.asarray(intercept, dtype=np.float64) / len(members)
        self.n_iter_ = np.asarray(n_iter)
        self.linear_ = not any(e.nb_binarize or e._calibrated() for e in kept)
        if keep:
            self.estimators_ = kept
        return self

    def decision_function(self, X):
        """Mean of the members' scores."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        if getattr(self, "linear_", False):
            d = np.asarray(X @ self.coef_.T) + self.intercept_
            return d.ravel() if d.shape[1] == 1 else d
        return np.mean([e.decision_function(X) for e in self.estimators_], axis=0)

    def predict_proba(self, X):
        """Sigmoid (softmax) of the mean score, columns in ``classes_`` order."""
        return _scores_to_proba(self.decision_function(X))

    def predict(self, X):
        """The class with the highest mean score."""
        d = self.decision_function(X)  # checks fitted state before classes_ is read
        return _scores_to_class(self.classes_, d)

    def contributions(self, x) -> np.ndarray:
        """Mean of the members' per-feature contributions for one row."""
        check_is_fitted(self, "coef_")
        if getattr(self, "linear_", False):
            return np.asarray(sp.csr_matrix(x).multiply(self.coef_).todense())
        return np.mean([e.contributions(x) for e in self.estimators_], axis=0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        return tags


class _PriorProblem:
    """The penalised log-loss of a prior-regularised logistic model, its gradient and its
    Hessian-vector product, for a Newton solver.

    The transposed data are built once per fit and the Hessian's curvature weights once
    per point: the solver asks for many Hessian products at the same point, and each
    would otherwise transpose the sparse data and recompute the sigmoid.
    """

    def __init__(self, P, Z, y, c, a0, b0, lam, alpha):
        self.P, self.Z, self.y, self.c = P, Z, y, c
        self.PT = np.ascontiguousarray(P.T)
        self.ZT = Z.T.tocsr() if sp.issparse(Z) else np.ascontiguousarray(Z.T)
        self.a0, self.b0, self.lam, self.alpha = a0, b0, lam, alpha
        self.k = P.shape[1]
        self._at, self._curv = None, None

    def _margin(self, theta):
        k = self.k
        return self.P @ theta[:k] + theta[k] + self.Z @ theta[k + 1:]

    def objective(self, theta):
        """(loss, gradient) at ``theta``."""
        k, lam, alpha = self.k, self.lam, self.alpha
        a, b, w = theta[:k], theta[k], theta[k + 1:]
        m = self._margin(theta)
        loss = np.sum(self.c * (np.logaddexp(0, m) - self.y * m))
        r = self.c * (expit(m) - self.y)
        pen = 0.5 * lam * (np.sum((a - self.a0) ** 2) + (b - self.b0) ** 2) \
            + 0.5 * alpha * (w @ w)
        grad = np.concatenate([self.PT @ r + lam * (a - self.a0),
                               [r.sum() + lam * (b - self.b0)], self.ZT @ r + alpha * w])
        return loss + pen, grad

    def hessp(self, theta, v):
        """The Hessian at ``theta`` times ``v``."""
        k = self.k
        if self._at is None or not np.array_equal(self._at, theta):
            p = expit(self._margin(theta))
            self._at, self._curv = theta.copy(), self.c * p * (1 - p)
        r = self._curv * (self.P @ v[:k] + v[k] + self.Z @ v[k + 1:])
        return np.concatenate([self.PT @ r + self.lam * v[:k], [r.sum() + self.lam * v[k]],
                               self.ZT @ r + self.alpha * v[k + 1:]])


class PriorLinear(ClassifierMixin, BaseEstimator):
    """Logistic regression that starts from a rule and lets the data correct it.

    Each class may name *prior columns*: features that carry knowledge of it (a codebook
    rule that fires, the guidelines' sentence rule). Their coefficients are pulled toward
    ``prior_weight`` (toward ``-prior_weight`` for the other class of a binary task) and
    the intercept toward ``prior_intercept`` (so that with no evidence the label is
    unlikely), each with strength ``prior_strength``; every other coefficient is a
    correction pulled toward zero with strength ``1 / C``. With no data the model *is*
    the rule; with much data it is ordinary logistic regression. Binary tasks fit one
    model (``coef_`` of shape (1, n_features), for ``classes_[1]``); more classes fit one
    per class and normalise.

    Parameters
    ----------
    prior_columns : dict of class to list of int, optional
        Feature indices carrying the prior of each class. None: plain L2 logistic
        regression.
    prior_weight : float, default=4.0
        The prior coefficient of a prior column (4: a rule that fires moves the log-odds
        by 4, from ``sigmoid(-2) = 0.12`` to ``sigmoid(2) = 0.88``).
    prior_intercept : float, default=-2.0
        The prior intercept of a class that has prior columns.
    prior_strength : float, default=1.0
        Pull of the prior coefficients and the intercept toward their priors.
    C : float, default=1.0
        Inverse strength of the pull of the corrections toward zero.
    class_weight : {"balanced"}, dict or None, default=None
        Weight examples by their class's inverse frequency (or by the given weights).
    free_class_weight : {"balanced"} or None, default="balanced"
        The weighting of a class that has no prior column: plain L2 logistic regression,
        which leaves a rare label unpredicted unless its examples weigh more.
    max_iter : int, default=1000
        Newton (trust-region) iterations.
    """

    def __init__(self, prior_columns: dict | None = None, prior_weight: float = 4.0,
                 prior_intercept: float = -2.0, prior_strength: float = 1.0, C: float = 1.0,
                 class_weight: str | None = None, free_class_weight: str | None = "balanced",
                 max_iter: int = 1000):
        self.prior_columns = prior_columns
        self.prior_weight = prior_weight
        self.prior_intercept = prior_intercept
        self.prior_strength = prior_strength
        self.C = C
        self.class_weight = class_weight
        self.free_class_weight = free_class_weight
        self.max_iter = max_iter

    def _fit_binary(self, X, y01, pos: list[int], neg: list[int], weights=None):
        """(coef, intercept, iterations) of one binary problem; y01 in {0, 1}; ``weights``
        per example (default: ``class_weight`` on y01)."""
        from scipy.optimize import minimize

        n_features = X.shape[1]
        cols = list(pos) + list(neg)
        if not cols:  # no rule: plain L2 logistic regression
            return self._fit_free(X, y01, weights)
        rest = np.setdiff1d(np.arange(n_features), cols)
        P = X[:, cols].toarray() if sp.issparse(X) else np.asarray(X)[:, cols]
        Z = X[:, rest]
        a0 = np.array([self.prior_weight] * len(pos) + [-self.prior_weight] * len(neg),
                      dtype=float)
        b0 = (self.prior_intercept if pos and not neg else
              -self.prior_intercept if neg and not pos else 0.0)
        lam = float(self.prior_strength) if cols else 0.0
        if not cols:
            b0 = 0.0
        c = np.ones(len(y01)) if weights is None else np.asarray(weights, dtype=float)
        if weights is None and self.class_weight == "balanced" and 0 < y01.sum() < len(y01):
            c = compute_sample_weight("balanced", y01)
        theta0 = np.concatenate([a0, [b0], np.zeros(len(rest))])
        # Newton steps in a trust region, the Hessian applied through two products with
        # the data: a handful of iterations where L-BFGS takes dozens over every column.
        problem = _PriorProblem(P, Z, y01.astype(float), c, a0, b0, lam, 1.0 / self.C)
        res = minimize(problem.objective, theta0, jac=True, hessp=problem.hessp,
                       method="trust-ncg", options={"maxiter": self.max_iter})
        coef = np.zeros(n_features)
        coef[cols] = res.x[:len(cols)]
        coef[rest] = res.x[len(cols) + 1:]
        return coef, float(res.x[len(cols)]), int(res.nit)

    def _fit_free(self, X, y01, weights=None):
        """(coef, intercept, iterations) of a class without prior columns: plain L2
        logistic regression (liblinear: fast on many sparse one-vs-rest problems)."""
        cw = self.free_class_weight
        if weights is None and cw and 0 < y01.sum() < len(y01):
            weights = compute_sample_weight(cw, y01)
        if y01.min() == y01.max():  # one class only: a constant score far on its side
            return np.zeros(X.shape[1]), (8.0 if y01[0] else -8.0), 0
        # liblinear's dual solver visits examples in a random order: fixed, so that the
        # same data give the same model.
        lr = LogisticRegression(C=self.C, max_iter=self.max_iter, solver="liblinear", dual=True,
                                random_state=0)
        lr.fit(X, y01, sample_weight=weights)
        return lr.coef_[0].astype(float), float(lr.intercept_[0]), int(np.max(lr.n_iter_))

    def fit(self, X, y):
        """Fit on features ``X`` and labels ``y``; returns ``self``."""
        X, y = _fit_input(self, X, y)
        cols = {k: [int(i) for i in v] for k, v in (self.prior_columns or {}).items()}
        bad = [i for v in cols.values() for i in v if not 0 <= i < X.shape[1]]
        if bad:
            raise ValueError(f"prior columns {bad} are outside the {X.shape[1]} features")
        def of(c):
            return cols.get(c, cols.get(str(c), []))

        targets = [self.classes_[1]] if len(self.classes_) == 2 else list(self.classes_)
        # Class weights refer to the original classes: as example weights.
        weights = compute_sample_weight(self.class_weight, y) if self.class_weight else None
        coefs, intercepts, self.n_iter_ = [], [], 0
        for c in targets:
            neg = of(self.classes_[0]) if len(self.classes_) == 2 else []
            w, b, it = self._fit_binary(X, (y == c).astype(int), of(c), neg, weights)
            coefs.append(w)
            intercepts.append(b)
            self.n_iter_ = max(self.n_iter_, it)
        self.coef_ = compact(np.vstack(coefs))
        self.intercept_ = np.asarray(intercepts)
        return self

    def decision_function(self, X):
        """Linear scores: (n,) for two classes, (n, n_classes) otherwise."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        d = np.asarray(X @ self.coef_.T + self.intercept_)
        return d.ravel() if d.shape[1] == 1 else d

    def predict_proba(self, X):
        """Sigmoid of the binary score; per-class sigmoids normalised for more classes."""
        d = self.decision_function(X)
        if d.ndim == 1:
            return _scores_to_proba(d)
        p = expit(d)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X):
        """The class with the highest score."""
        d = self.decision_function(X)  # checks fitted state before classes_ is read
        return _scores_to_class(self.classes_, d)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class PriorOneVsRest(PriorLinear):
    """Multi-label :class:`PriorLinear`: one binary model per label, each with its own
    prior columns (``prior_columns[j]``: the features that carry label ``j``'s rule).

    ``predict_proba`` gives (n, n_labels); ``estimators_[j]`` is label ``j``'s model.
    A label constant in the training data still gets a model (the prior keeps it sane).
    """

    def fit(self, X, Y):
        """Fit one prior-regularised model per column of the 0/1 matrix ``Y``."""
        X = sp.csr_matrix(X, dtype=np.float64) if sp.issparse(X) else np.asarray(X, float)
        Y = np.asarray(Y)
        cols = list(self.prior_columns or [[]] * Y.shape[1])
        params = {k: getattr(self, k) for k in ("prior_weight", "prior_intercept",
                                                "prior_strength", "C", "class_weight",
                                                "free_class_weight", "max_iter")}
        self.estimators_ = []
        for j in range(Y.shape[1]):
            est = PriorLinear(prior_columns={1: list(cols[j])}, **params)
            w, b, it = est._fit_binary(X, Y[:, j].astype(int), list(cols[j]), [])
            est.coef_, est.intercept_ = compact(w[None, :]), np.array([b])
            est.classes_, est.n_iter_, est.n_features_in_ = np.array([0, 1]), it, X.shape[1]
            self.estimators_.append(est)
        self.classes_ = np.arange(Y.shape[1])
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X):
        """Per-label probability, (n, n_labels)."""
        check_is_fitted(self, "estimators_")
        return np.column_stack([e.predict_proba(X)[:, 1] for e in self.estimators_])

    def predict(self, X):
        """0/1 matrix at probability 0.5."""
        return (self.predict_proba(X) >= 0.5).astype(int)


def build_classifier(params: Mapping[str, Any], kind: str, n_jobs: int | None = None):
    """The estimator for one task (one-vs-rest if multilabel).

    ``params`` holds the keyword parameters of :class:`LinearTextClassifier` (others are
    ignored: a family reads only its own), ``family: ensemble``, ``members`` and
    ``keep_members`` for :class:`AveragedLinear`, or ``family: prior`` and
    ``prior_columns`` (per class, or per label if multilabel) for :class:`PriorLinear`.
    """
    params = dict(params)
    known = LinearTextClassifier._get_param_names()
    if params.get("family") == "prior":
        keys = PriorLinear._get_param_names()
        kw = {k: v for k, v in params.items() if k in keys and k != "prior_columns"}
        columns = params.get("prior_columns")
        if kind == "multilabel":
            return PriorOneVsRest(prior_columns=columns, **kw)
        return PriorLinear(prior_columns=columns, **kw)
    if params.get("family") == "ensemble":
        seed = params.get("random_state")
        members = [{k: v for k, v in dict(m).items() if k in known}
                   for m in params.get("members") or []]
        if seed is not None:
            members = [{"random_state": seed, **m} for m in members]
        clf = AveragedLinear(members, keep_members=bool(params.get("keep_members", False)))
    else:
        clf = LinearTextClassifier(**{k: v for k, v in params.items() if k in known})
    if kind == "multilabel":
        return OneVsRestClassifier(clf, n_jobs=n_jobs)
    return clf


def tune_thresholds(y_true: np.ndarray, scores: np.ndarray, default: float = 0.5,
                    grid: np.ndarray | None = None) -> np.ndarray:
    """Per-label thresholds that maximise F1 on (out-of-fold) scores.

    The candidates are a grid (0.05 to 0.95) and the scores of the label's positive
    examples — where F1's maximum lies — so that a rare label whose scores all sit low
    still gets a threshold that reaches them. Ties go to the threshold nearest
    ``default``; a label with no positive or no negative example keeps ``default``.
    """
    grid = np.round(np.arange(0.05, 0.951, 0.05), 2) if grid is None else np.asarray(grid)
    y_true = np.asarray(y_true)
    scores = np.asarray(scores, dtype=float)
    out = np.full(y_true.shape[1], default, dtype=float)
    for j in range(y_true.shape[1]):
        y = y_true[:, j].astype(bool)
        if y.all() or not y.any():
            continue
        s = scores[:, j]
        cands = np.unique(np.concatenate([grid, s[y]]))
        ranked = np.sort(s)
        positives = np.sort(s[y])
        predicted = len(s) - np.searchsorted(ranked, cands, side="left")
        hits = len(positives) - np.searchsorted(positives, cands, side="left")
        f1 = 2 * hits / (predicted + len(positives))
        best = np.flatnonzero(f1 >= f1.max() - 1e-12)
        out[j] = cands[best[np.argmin(np.abs(cands[best] - default))]]
    return out


def safe_thresholds(y_true: np.ndarray, scores: np.ndarray, labels=None, groups=None,
                    seed: int = 0, default: float = 0.5, max_ratio: float = 3.0,
                    n_splits: int = 3) -> tuple[np.ndarray, list[str]]:
    """Per-label thresholds tuned on (out-of-fold) scores, kept only where they are safe.

    A label's tuned threshold (:func:`tune_thresholds`) is kept when

    * it beats ``default`` on data it was not tuned on: the rows are cut into
      ``n_splits`` parts (whole groups where ``groups`` is given), each part is decided
      by the threshold tuned on the others, and the pooled F1 of those decisions must be
      above the pooled F1 at ``default`` on the same rows; and
    * it does not turn the label on for far more rows than carry it: at most
      ``max_ratio`` times the label's prevalence (and at least one row more).

    Otherwise the label keeps ``default``; a refusal on the second ground is returned as
    a message naming the label. So a tuned model never scores below the same scores at
    fixed thresholds on the held-out parts, and a rare label whose positives all score
    low cannot be switched on everywhere.

    Returns
    -------
    (thresholds, messages)
    """
    y_true = np.asarray(y_true).astype(bool)
    scores = np.asarray(scores, dtype=float)
    n, k = y_true.shape
    labels = list(labels) if labels is not None else [str(j) for j in range(k)]
    tuned = tune_thresholds(y_true, scores, default)
    out = np.full(k, default, dtype=float)
    msgs: list[str] = []
    if n < 4:
        return out, msgs
    from sklearn.model_selection import GroupKFold, KFold

    if groups is not None and len(np.unique(groups)) >= 2:
        parts = list(GroupKFold(n_splits=min(n_splits, len(np.unique(groups)))).split(
            np.arange(n), groups=groups))
    else:
        parts = list(KFold(n_splits=min(n_splits, n), shuffle=True,
                           random_state=seed).split(np.arange(n)))
    held = np.zeros((n, k), dtype=bool)
    for tr, te in parts:
        thr = tune_thresholds(y_true[tr], scores[tr], default)
        held[te] = scores[te] >= thr
    fixed = scores >= default

    def f1(pred):
        tp = (pred & y_true).sum(0)
        return 2 * tp / np.maximum(pred.sum(0) + y_true.sum(0), 1)

    wins = f1(held) > f1(fixed) + 1e-12
    prevalence = y_true.sum(0)
    on = (scores >= tuned[None, :]).sum(0)
    for j in range(k):
        if tuned[j] == default or not wins[j]:
            continue
        if on[j] > max(max_ratio * prevalence[j], prevalence[j] + 1):
            msgs.append(f"label {labels[j]!r}: the tuned threshold {tuned[j]:.3g} would turn "
                        f"it on for {int(on[j])} of {n} records, against {int(prevalence[j])} "
                        f"that carry it; kept at {default}.")
            continue
        out[j] = tuned[j]
    return out, msgs


def constant_binary(n_features: int, positive: bool) -> PriorLinear:
    """A fitted two-class model (classes 0, 1) with one constant score far on one side:
    the model of a label that every (or no) training record carries."""
    est = PriorLinear()
    est.coef_ = np.zeros((1, n_features))
    est.intercept_ = np.array([8.0 if positive else -8.0])
    est.classes_, est.n_iter_, est.n_features_in_ = np.array([0, 1]), 0, n_features
    return est


class LabelModels(ClassifierMixin, BaseEstimator):
    """A multi-label task as one fitted binary model per label, each possibly of another
    family (what ``model=auto`` chose for it); all read the same features.

    ``predict_proba`` gives (n, n_labels); ``estimators_[j]`` is label ``j``'s model.
    """

    @classmethod
    def from_fitted(cls, estimators: Sequence[Any], n_features: int) -> LabelModels:
        """The task's model from its labels' fitted binary models."""
        self = cls()
        self.estimators_ = list(estimators)
        self.classes_ = np.arange(len(self.estimators_))
        self.n_features_in_ = n_features
        return self

    def fit(self, X, Y):
        """Not supported: the labels' models are fitted one by one, each its own way
        (:class:`framing.learn.choice.AutoFit`), then joined by :meth:`from_fitted`."""
        raise NotImplementedError("LabelModels joins fitted models; see from_fitted.")

    def predict_proba(self, X):
        """Per-label probability, (n, n_labels)."""
        check_is_fitted(self, "estimators_")
        return np.column_stack([e.predict_proba(X)[:, 1] for e in self.estimators_])

    def predict(self, X):
        """0/1 matrix at probability 0.5."""
        return (self.predict_proba(X) >= 0.5).astype(int)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class PerLabelSGD(ClassifierMixin, BaseEstimator):
    """One binary SGD classifier per label, trained incrementally (the streaming path).

    ``predict_proba`` returns (n, n_labels) like a one-vs-rest multi-label model.
    """

    def __init__(self, n_labels: int = 2, loss: str = "log_loss", alpha: float = 1e-6,
                 random_state: int = 0):
        self.n_labels = n_labels
        self.loss = loss
        self.alpha = alpha
        self.random_state = random_state

    def partial_fit(self, X, Y, classes=None):
        """Update every label's model with one chunk; ``Y`` is a 0/1 matrix."""
        Y = np.asarray(Y)
        if not hasattr(self, "estimators_"):
            self.estimators_ = [SGDClassifier(loss=self.loss, alpha=self.alpha,
                                              random_state=self.random_state)
                                for _ in range(self.n_labels)]
            self.classes_ = np.arange(self.n_labels)
        for j, est in enumerate(self.estimators_):
            est.partial_fit(X, Y[:, j], classes=np.array([0, 1]))
        return self

    def fit(self, X, Y):
        """One pass over (X, Y)."""
        for attr in ("estimators_", "classes_"):
            if hasattr(self, attr):
                delattr(self, attr)
        return self.partial_fit(X, Y)

    def predict_proba(self, X):
        """Per-label probability of the label, (n, n_labels)."""
        check_is_fitted(self, "estimators_")
        return np.column_stack([e.predict_proba(X)[:, 1] for e in self.estimators_])

    def predict(self, X):
        """0/1 matrix at threshold 0.5."""
        return (self.predict_proba(X) >= 0.5).astype(int)
