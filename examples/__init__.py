"""Scripts that use nnfunc on data; each runs alone (``python examples/X.py``).

The package form lets the tests and ``make_figures`` import their ``main``.
"""
