"""Text as the models read it: words of a batch (``tokens``), word lists matched in one
pass (``terms``), sentences, quotations and the writer's own voice (``sentences``), and
raw articles cut into paragraph units (``segment``).

May import ``framing.core``; numpy and the standard library only.
"""
