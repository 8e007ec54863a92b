"""The vocabulary every layer shares: the errors a user can cause (``errors``), task
specifications (``tasks``) and the metric registry (``metrics``).

Imports nothing of framing's; numpy and the standard library only.
"""
