"""The commands: ``framing`` (``main``, one module per command group) and
``framing-train`` (``train``, the Hydra entry point).

The top layer: may import everything; nothing imports it.
"""
