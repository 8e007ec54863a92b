"""Everything :func:`framing.load` touches: :class:`~framing.predict.model.FramingModel`
(``model``), its numpy scorer and file section (``runtime``), the allow-listed reading of
a file's scikit-learn part (``safeload``), atomic writes and digests (``storage``) and the
model card (``card``).

May import ``framing.core`` and ``framing.text``; never the learning, evaluation,
tracking or command-line side. numpy and the standard library only, until a model's
scikit-learn part is read.
"""
