import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from framing.learn.estimators import (
    AveragedLinear,
    LinearTextClassifier,
    PriorLinear,
    tune_thresholds,
)
from framing.learn.features import CodebookLexicon, StyleCues, build_features


def _expected_failures(est):
    if isinstance(est, AveragedLinear):
        return {"check_decision_proba_consistency":
                "naive Bayes scores are large; the sigmoid saturates to 1.0 and ties ranks"}
    if getattr(est, "nb_weight", False):
        return {
            "check_class_weight_classifiers":
                "this check feeds negative features; NB weighting refuses them by design",
            "check_decision_proba_consistency":
                "NB-scaled scores are large; the sigmoid saturates to 1.0 and ties ranks",
        }
    return {}


@parametrize_with_checks([
    CodebookLexicon({"a": ["x"]}), StyleCues({"m": ["can"]}),
    LinearTextClassifier(), LinearTextClassifier(family="linear_svm"),
    LinearTextClassifier(family="sgd"), LinearTextClassifier(family="ridge"),
    LinearTextClassifier(nb_weight=True, class_weight=None),
    AveragedLinear([{"family": "logreg"}, {"family": "cnb"}]),
    PriorLinear(), PriorLinear(prior_columns={1: [0]}),
], expected_failed_checks=_expected_failures)
def test_scikit_learn_estimator_rules(estimator, check):
    check(estimator)


def test_codebook_counts_terms_stems_and_phrases():
    lex = CodebookLexicon({"sec": ["terror*", "border security"], "eco": ["gas pipeline"]})
    X = lex.fit(["x"]).transform(["Terrorism and terrorists at the border security post.",
                                  "The gas pipeline."]).toarray()
    assert np.allclose(np.expm1(X), [[3, 0], [0, 1]])
    assert lex.matches("Counter terrorism")["sec"] == ["terrorism"]


def test_style_cues_are_rates_per_token():
    cues = StyleCues({"attribution": ["said"]}, quotes=True, numbers=True, dates=False,
                     length=False).fit(["x"])
    row = cues.transform(['He said "yes" on 3 May.']).toarray()[0]
    n_tokens = 6  # He said yes on 3 May
    assert row[0] == pytest.approx(1 / n_tokens)
    assert row[1] == pytest.approx(2 / n_tokens)
    assert row[2] == pytest.approx(1 / n_tokens)


def test_feature_union_refuses_omegaconf_style_lists_no_more():
    fu = build_features({"word": {"ngram_range": [1, 2]}, "char": {"enabled": False}})
    X = fu.fit_transform(["alpha beta gamma", "beta gamma delta"])
    assert X.shape[0] == 2
    assert fu.transformer_list[0][1].ngram_range == (1, 2)


def test_nb_weighting_separates_a_toy_problem():
    rng = np.random.default_rng(0)
    X = rng.random((60, 5))
    y = (X[:, 0] > 0.5).astype(int)
    for fam in ("logreg", "linear_svm"):
        clf = LinearTextClassifier(family=fam, nb_weight=True).fit(X, y)
        assert (clf.predict(X) == y).mean() > 0.8
        assert clf.coef_.shape == (1, 5)
        assert np.allclose(clf.contributions(X[:1]).sum() + clf.intercept_[0],
                           clf.decision_function(X[:1])[0])


def test_thresholds_maximise_f1_and_default_for_constant_labels():
    y = np.array([[1, 1], [1, 1], [0, 1], [0, 1]])
    s = np.array([[0.3, 0.9], [0.35, 0.8], [0.1, 0.7], [0.2, 0.6]])
    thr = tune_thresholds(y, s)
    assert 0.2 < thr[0] <= 0.3
    assert thr[1] == 0.5


def test_averaged_linear_is_one_linear_model():
    rng = np.random.default_rng(0)
    X = rng.random((80, 6))
    y = np.where(X[:, 0] + X[:, 1] > 1, "b", "a")
    members = [{"family": "logreg", "C": 10}, {"family": "cnb"},
               {"family": "logreg", "nb_weight": True, "class_weight": None}]
    ens = AveragedLinear(members, keep_members=True).fit(X, y)
    d = ens.decision_function(X)
    assert np.allclose(d, X @ ens.coef_.ravel() + ens.intercept_[0])
    assert np.allclose(d, np.mean([e.decision_function(X) for e in ens.estimators_], axis=0))
    assert (ens.predict(X) == y).mean() > 0.8
    # without its members (the default) it keeps only the mean weights and scores the same
    slim = AveragedLinear(members).fit(X, y)
    assert slim.linear_ and not hasattr(slim, "estimators_") and len(slim.n_iter_) == 3
    assert np.allclose(slim.decision_function(X), d, atol=1e-12)
    assert np.allclose(slim.contributions(X[:1]).sum() + slim.intercept_[0], d[0])
    # a calibrated SVM's scores are not linear: its members stay, whatever is asked
    svm = AveragedLinear([{"family": "linear_svm"}, {"family": "cnb"}]).fit(X, y)
    assert not svm.linear_ and len(svm.estimators_) == 2
    assert np.allclose(svm.decision_function(X),
                       np.mean([e.decision_function(X) for e in svm.estimators_], axis=0))


def test_wide_coefficients_are_kept_in_float32(monkeypatch):
    """Past COMPACT_FROM coefficients a model keeps them in float32 (half the memory and
    file), its scores within 1e-6 of the float64 fit; a small model stays float64."""
    import pickle

    import scipy.sparse as sp

    from framing.learn.estimators import (
        COMPACT_FROM,
        AveragedLinear,
        LinearTextClassifier,
        PriorLinear,
        PriorOneVsRest,
    )

    rng = np.random.default_rng(0)
    wide = sp.random(300, COMPACT_FROM + 10, density=0.002, random_state=0, format="csr")
    y = rng.integers(0, 2, 300)
    Y = rng.integers(0, 2, (300, 3))
    for est, target in [(LinearTextClassifier(), y), (LinearTextClassifier(nb_weight=True), y),
                        (LinearTextClassifier(family="cnb"), y),
                        (PriorLinear(), y), (AveragedLinear(), y), (PriorOneVsRest(), Y)]:
        est.fit(wide, target)
        coefs = [e.coef_ for e in getattr(est, "estimators_", [est])
                 if hasattr(e, "coef_") and not isinstance(est, AveragedLinear)] or [est.coef_]
        assert all(c.dtype == np.float32 for c in coefs), type(est).__name__
        if est.__dict__.get("family") == "cnb":  # naive Bayes keeps no counts
            assert not hasattr(est.model_, "feature_count_")
            assert est.model_.feature_log_prob_.dtype == np.float32
        back = pickle.loads(pickle.dumps(est))
        assert np.array_equal(back.predict_proba(wide), est.predict_proba(wide))
    full = LinearTextClassifier().fit(wide, y)
    monkeypatch.setattr("framing.learn.estimators.COMPACT_FROM", 10 ** 9)
    exact = LinearTextClassifier().fit(wide, y)
    assert exact.coef_.dtype == np.float64
    assert np.allclose(exact.predict_proba(wide), full.predict_proba(wide), rtol=0, atol=1e-6)
    small = LinearTextClassifier().fit(wide[:, :1000], y)
    assert small.coef_.dtype == np.float64
    size = len(pickle.dumps(full))
    assert size < 0.6 * 8 * wide.shape[1]  # one float32 vector, not float64 or two copies


def test_several_classes_reach_the_multinomial_optimum():
    """With three classes or more logistic regression minimises the multinomial loss
    (Newton-CG): at a large C its penalised loss is within 0.5% of a tightly converged
    fit's and nearer to it than L-BFGS gets at its default tolerance, and the
    predictions agree."""
    import scipy.sparse as sp
    from scipy.special import logsumexp
    from sklearn.linear_model import LogisticRegression

    X = sp.random(300, 2000, density=0.01, random_state=1, format="csr")
    y = np.argmax(np.asarray(X[:, :30].todense()).reshape(300, 3, 10).sum(axis=2), axis=1)

    def loss(coef, intercept, C):
        d = np.asarray(X @ coef.T) + intercept
        return C * (logsumexp(d, axis=1) - d[np.arange(len(y)), y]).sum() + 0.5 * (coef**2).sum()

    ours = LinearTextClassifier(C=100.0, class_weight=None).fit(X, y)
    tight = LogisticRegression(C=100.0, solver="lbfgs", tol=1e-10, max_iter=20000).fit(X, y)
    assert ours.model_.solver == "newton-cg"
    lbfgs = LogisticRegression(C=100.0, solver="lbfgs", max_iter=2000).fit(X, y)
    best = loss(tight.coef_, tight.intercept_, 100.0)
    gap = loss(ours.coef_, ours.intercept_, 100.0) - best
    assert 0 <= gap <= 0.005 * best
    assert gap < loss(lbfgs.coef_, lbfgs.intercept_, 100.0) - best
    assert (ours.predict(X) == tight.predict(X)).mean() >= 0.99


def test_dual_solver_when_features_outnumber_examples():
    """``dual="auto"`` solves logistic regression's dual problem when there are more
    features than examples (text), the primal one otherwise; both reach the same model
    within the solver's tolerance."""
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    wide = sp.random(80, 400, density=0.05, random_state=0, format="csr")
    y = (np.asarray(wide[:, :40].sum(axis=1)).ravel() > np.median(
        np.asarray(wide[:, :40].sum(axis=1)))).astype(int)
    auto = LinearTextClassifier(C=10).fit(wide, y)
    primal = LinearTextClassifier(C=10, dual=False).fit(wide, y)
    assert auto.model_.dual and not primal.model_.dual
    assert np.abs(auto.decision_function(wide) - primal.decision_function(wide)).max() < 1e-2
    assert (auto.predict(wide) == primal.predict(wide)).mean() >= 0.98
    tall = rng.random((200, 5))
    assert not LinearTextClassifier().fit(tall, (tall[:, 0] > 0.5).astype(int)).model_.dual
    with pytest.raises(ValueError, match="dual='yes'"):
        LinearTextClassifier(dual="yes").fit(wide, y)
