"""``framing-train``: compose the config, evaluate out of fold, fit and save the predictor.

The Hydra entry point :func:`main` is a thin shell around :func:`train`, which tests and
sweeps call with a composed config and which returns the number a sweep optimises.
"""

from __future__ import annotations

import logging
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from framing import __version__
from framing.bundle import write_bundle
from framing.config import config_dir, register_resolvers
from framing.data import DataSpec, load_corpus
from framing.errors import FramingConfigError, FramingError
from framing.evaluate import Evaluation, Trainer, cross_validate

log = logging.getLogger("framing.train")

register_resolvers()


def _plain(node: Any) -> Any:
    """A config node as plain Python; a value left at ``???`` is a clear error."""
    from omegaconf.errors import MissingMandatoryValue

    if not isinstance(node, DictConfig):
        return node
    try:
        return OmegaConf.to_container(node, resolve=True, throw_on_missing=True)
    except MissingMandatoryValue as e:
        key = e.full_key or "a value"
        raise FramingConfigError(f"{key} is not set. Give it on the command line, e.g. "
                                 f"{key}=..., or in your config.") from None


def build_trainer(cfg: DictConfig) -> Trainer:
    """The :class:`Trainer` a config describes."""
    model = dict(_plain(cfg.model))
    per_task = model.pop("per_task", {}) or {}
    features = _plain(cfg.features)
    return Trainer(feature_cfg=features, model_cfg=model, codebook=_plain(cfg.get("codebook")),
                   per_task=per_task, thresholds=cfg.eval.thresholds,
                   inner_splits=int(cfg.eval.inner_splits),
                   n_jobs=cfg.eval.get("ovr_n_jobs"))


def objective(cfg: DictConfig, metrics: dict[str, float], task_names: list[str]) -> float:
    """The metric a sweep optimises: ``eval.optimize`` or the mean macro-F1 of the tasks."""
    name = cfg.eval.get("optimize")
    if name:
        if name not in metrics:
            raise FramingConfigError(f"eval.optimize={name!r} is not a metric of this run; "
                                     f"e.g. {', '.join(sorted(metrics)[:6])}.")
        return float(metrics[name])
    return float(np.mean([metrics[f"{t}/macro_f1"] for t in task_names]))


def _versions() -> dict[str, str]:
    import joblib
    import scipy
    import sklearn

    return {"framing": __version__, "scikit-learn": sklearn.__version__,
            "numpy": np.__version__, "scipy": scipy.__version__, "joblib": joblib.__version__,
            "python": platform.python_version()}


def model_card(cfg: DictConfig, corpus, evaluation: Evaluation, run_id: str | None,
               thresholds: dict[str, list[float]], metrics: dict[str, float]
               ) -> dict[str, Any]:
    """The card stored in the bundle: versions, data, config, figures, run id."""
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": _versions(),
        "data": {"name": corpus.name, "source": str(corpus.source), "n_records": len(corpus),
                 "digest": corpus.digest(), "label_counts": corpus.label_counts()},
        "evaluation": {"strategy": evaluation.strategy, "n_folds": evaluation.n_folds,
                       "metrics": metrics, "notes": evaluation.notes},
        "thresholds": thresholds,
        "config": OmegaConf.to_container(cfg, resolve=True),
        "mlflow_run_id": run_id,
    }


def card_markdown(card: dict[str, Any]) -> str:
    """A human-readable MODEL_CARD.md."""
    m = card["evaluation"]["metrics"]
    d = card["data"]
    lines = [f"# Model card: framing predictor ({card['created']})", "",
             "## Data", "",
             f"- corpus: {d['name']} ({d['source']}), {d['n_records']} records",
             f"- digest (SHA-256): `{d['digest']}`",
             f"- label counts: {d['label_counts']}", "",
             "## Evaluation", "",
             f"Out-of-fold, {card['evaluation']['strategy']} ({card['evaluation']['n_folds']} "
             "folds); 95% bootstrap intervals.", "",
             "| task | metric | value | 95% interval | majority | codebook rules |",
             "| --- | --- | --- | --- | --- | --- |"]
    tasks = list(d["label_counts"])
    for t in tasks:
        for k in ("macro_f1", "micro_f1", "accuracy", "subset_accuracy", "hamming_loss",
                  "roc_auc", "log_loss"):
            if f"{t}/{k}" not in m:
                continue
            ci = (f"{m[f'{t}/{k}/ci_low']:.3f}–{m[f'{t}/{k}/ci_high']:.3f}"
                  if f"{t}/{k}/ci_low" in m else "")
            b = [f"{m[f'baseline/{n}/{t}/{k}']:.3f}" if f"baseline/{n}/{t}/{k}" in m else ""
                 for n in ("majority", "codebook")]
            lines.append(f"| {t} | {k} | {m[f'{t}/{k}']:.3f} | {ci} | {b[0]} | {b[1]} |")
    lines += ["", "| task | label | precision | recall | F1 | support | threshold |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for t in tasks:
        thr = card["thresholds"].get(t)
        for j, lab in enumerate(d["label_counts"][t]):
            g = lambda k, t=t, lab=lab: m.get(f"{t}/{lab}/{k}", float("nan"))  # noqa: E731
            th = f"{thr[j]:.2f}" if thr else "argmax"
            sup = g("support")
            lines.append(f"| {t} | {lab} | {g('precision'):.3f} | {g('recall'):.3f} | "
                         f"{g('f1'):.3f} | {'' if np.isnan(sup) else int(sup)} | {th} |")
    if card["evaluation"]["notes"]:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in card["evaluation"]["notes"]]
    v = card["versions"]
    lines += ["", "## Versions", "", ", ".join(f"{k} {val}" for k, val in v.items()), "",
              f"MLflow run: {card['mlflow_run_id'] or '(not tracked)'}", "",
              "Load with `framing.load(path)`. A joblib file runs code when loaded: load only "
              "files you trust.", ""]
    return "\n".join(lines)


def _is_multirun() -> bool:
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN
    except Exception:  # noqa: BLE001 - no Hydra context: a plain call
        return False


def train(cfg: DictConfig) -> float:
    """Evaluate, fit and save the model a config describes; return the sweep objective.

    Steps: load and validate the corpus; check the tracking store; cross-validate with
    out-of-fold predictions, intervals and baselines; fit the final model on all training
    records with thresholds from the out-of-fold scores; write the predictor bundle; log
    everything to MLflow.
    """
    from framing import tracking

    logging.getLogger("framing").setLevel(cfg.get("log_level", "INFO"))
    seed = int(cfg.seed)
    np.random.seed(seed)
    tracker = tracking.Tracker.from_config(cfg)  # fails fast on an unreachable server
    if cfg.get("stream") is not None and cfg.stream.enabled:
        return train_streaming(cfg, tracker)
    corpus = load_corpus(DataSpec.from_config(_plain(cfg.data)))
    log.info("corpus %s: %d records, tasks %s", corpus.name, len(corpus),
             [t.name for t in corpus.tasks])
    trainer = build_trainer(cfg)
    t0 = time.perf_counter()
    evaluation = cross_validate(corpus, trainer, cfg.eval.strategy, int(cfg.eval.n_splits),
                                seed, int(cfg.eval.n_boot), list(cfg.eval.baselines),
                                cfg.eval.n_jobs)
    eval_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    if evaluation.strategy == "split":
        # The test split stays unseen: fit on the training split, thresholds from inner
        # cross-validation there (not from the test predictions).
        final, thresholds = corpus.subset(np.flatnonzero(corpus.split == "train")), None
    else:
        final, thresholds = corpus, evaluation.thresholds_oof
    fitted = trainer.fit(final.texts, final.targets, corpus.tasks, final.groups,
                         thresholds=thresholds)
    fit_seconds = time.perf_counter() - t0
    metrics = dict(evaluation.metrics)
    metrics["time/eval_seconds"] = eval_seconds
    metrics["time/fit_seconds"] = fit_seconds
    value = objective(cfg, metrics, [t.name for t in corpus.tasks])
    for t in corpus.tasks:
        line = f"{t.name}: macro-F1 {metrics[f'{t.name}/macro_f1']:.3f}"
        if f"{t.name}/accuracy" in metrics:
            line = f"{t.name}: accuracy {metrics[f'{t.name}/accuracy']:.4f}, " + line[
                len(t.name) + 2:]
        if f"{t.name}/macro_f1/ci_low" in metrics:
            line += (f" [{metrics[f'{t.name}/macro_f1/ci_low']:.3f}, "
                     f"{metrics[f'{t.name}/macro_f1/ci_high']:.3f}]")
        for b in cfg.eval.baselines:
            if f"baseline/{b}/{t.name}/macro_f1" in metrics:
                line += f", {b} {metrics[f'baseline/{b}/{t.name}/macro_f1']:.3f}"
        log.info(line)

    with tracker.run(cfg, corpus) as run:
        thresholds = {k: [float(x) for x in v] for k, v in fitted.thresholds.items()}
        card = model_card(cfg, corpus, evaluation, run.run_id, thresholds, metrics)
        model_path = save_predictor(cfg, fitted.features, fitted.models, fitted.constant,
                                    thresholds, corpus.tasks, card)
        run.log_all(cfg, corpus, evaluation, metrics, fitted, card, model_path)
    log.info("objective %.4f", value)
    return value


def save_predictor(cfg: DictConfig, features, models, constant, thresholds, tasks,
                   card: dict[str, Any]) -> Path | None:
    """Write the bundle (and its card and digest) unless ``output.write_model`` is off.

    In a multirun each job writes into its own output folder.
    """
    if not cfg.output.write_model:
        return None
    model_path = Path(cfg.output.model_path)
    if _is_multirun():
        model_path = Path(cfg.paths.output_dir) / model_path.name
    bundle = {"features": features, "models": models, "constant": constant,
              "thresholds": thresholds, "card": card,
              "tasks": [{"name": t.name, "kind": t.kind, "labels": list(t.labels)}
                        for t in tasks]}
    write_bundle(bundle, model_path, card_markdown(card))
    log.info("predictor written to %s", model_path)
    return model_path


def train_streaming(cfg: DictConfig, tracker) -> float:
    """The streaming path: chunks, hashing features, ``partial_fit``; held-out scores."""
    from framing.stream import train_stream

    spec = DataSpec.from_config(_plain(cfg.data))
    if spec.source not in ("jsonl", "parquet"):
        raise FramingConfigError("the streaming path reads JSON lines or Parquet files; "
                                 f"data.source is {spec.source!r}.")
    st = cfg.stream
    res = train_stream(spec.path, spec.tasks, spec.text_column, spec.id_column,
                       int(st.chunk_size), int(st.epochs), float(st.holdout),
                       int(st.n_features), list(st.ngram_range), float(st.alpha),
                       seed=int(cfg.seed), progress=bool(st.progress))
    metrics = {**res.metrics, "n_train": res.n_train, "n_holdout": res.n_holdout,
               "time/fit_seconds": res.seconds}
    log.info("streamed %d records (%d held out) in %.1f s: %s", res.n_train + res.n_holdout,
             res.n_holdout, res.seconds,
             {k: round(v, 4) for k, v in res.metrics.items() if k.endswith("macro_f1")})
    thresholds = {t.name: [0.5] * len(t.labels) for t in res.tasks if t.kind == "multilabel"}
    name = spec.name or Path(spec.path).stem
    with tracker.run_plain(cfg, name) as run:
        card = {
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "versions": _versions(),
            "data": {"name": name, "source": spec.path, "n_records": res.n_train + res.n_holdout,
                     "digest": None, "label_counts": {t.name: {lab: None for lab in t.labels}
                                                      for t in res.tasks}},
            "evaluation": {"strategy": f"streaming hold-out ({st.holdout:.0%} by id hash)",
                           "n_folds": 1, "metrics": metrics, "notes": []},
            "thresholds": thresholds, "config": OmegaConf.to_container(cfg, resolve=True),
            "mlflow_run_id": run.run_id,
        }
        model_path = save_predictor(cfg, res.features, res.models, {}, thresholds, res.tasks,
                                    card)
        run.log_plain(cfg, metrics, model_path)
    return float(np.mean([metrics[f"{t.name}/macro_f1"] for t in res.tasks]))


def _hydra_main():
    import hydra

    @hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="train")
    def _main(cfg: DictConfig) -> float:
        try:
            return train(cfg)
        except FramingError as e:  # one clear message, no traceback, non-zero exit
            print(f"framing-train: error: {e}", file=sys.stderr)
            sys.exit(2)

    return _main


def main() -> None:
    """Console entry point ``framing-train`` (the Hydra command line)."""
    logging.basicConfig(format="[%(levelname)s] %(name)s: %(message)s", level=logging.INFO)
    _hydra_main()()


if __name__ == "__main__":
    main()
