"""Evaluation: metrics (this package's ``metrics``); tasks, peers and the ``mmembed eval`` command build on them."""
