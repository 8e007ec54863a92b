"""A whole run: :class:`~framing.pipeline.trainer.Trainer` evaluates a config out of
fold, fits it on all the data and writes its card; :func:`framing.fit` is its Python face.

May import every layer below (``core`` … ``evaluate``); not ``annotate``, ``scale``,
``track`` or ``cli``.
"""
