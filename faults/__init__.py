"""The fault suite: the console attacked the way the real world attacks it, with figures.

``make faults`` runs the long version (``python -m faults``); ``tests/faults`` runs a short version of
every scenario inside ``make test``. Each scenario is a function that returns a ``Figures`` record, so
both share one implementation.
"""
