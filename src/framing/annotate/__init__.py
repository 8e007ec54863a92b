"""The annotation loop: the record format and task sets (``records``), agreement and
adjudication (``agreement``), what to label next (``selection``), Label Studio
(``labelstudio``) and the simulated loop (``simulate``).

May import ``core`` … ``evaluate``; independent of ``pipeline`` and ``scale``.
"""
