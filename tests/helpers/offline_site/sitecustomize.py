"""Refuse non-loopback connections in Python subprocesses started by the tests.

The tests put this folder first on ``PYTHONPATH``; Python imports ``sitecustomize`` at
start-up, so a ``qa`` process spawned by a test cannot reach the network even if a
dependency tries to. The rule is the one the test session uses (``offline_guard``).
"""

from offline_guard import install

install()
