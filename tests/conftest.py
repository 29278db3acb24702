"""The tests' fixtures live in the ``tests.support`` package; this registers them."""

pytest_plugins = ["tests.support.fixtures"]
