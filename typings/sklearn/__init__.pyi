# Stubs for the parts of scikit-learn that nnfunc's examples call.
__version__: str
