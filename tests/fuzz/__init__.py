"""The fuzz suite: every public function, driven with hostile arguments.

- ``harness.py``: the contract every fuzzed call must keep (a correct
  result, or a ``ValueError``/``TypeError`` naming an argument; no warning,
  nothing passed in changed, finite results from finite input), and the
  bodies of the tests that drive it.
- ``strategies.py``: hostile values (every dtype, rank, layout and shape of
  lie) and near-valid params, grads, states and targets.
- One spec file per area: ``test_core`` (the network and its values),
  ``test_optim`` (steps, optimizers, clipping, schedules), ``test_training``
  (``train``), ``test_io`` (``save``, ``load``), ``test_data`` (datasets,
  batches, metrics); ``test_registry`` checks that every public function is
  fuzzed by one of them.
- ``test_files`` (hostile archives, saves killed mid-write), ``test_faults``
  (divergence, raising callbacks, interrupts at random moments),
  ``test_extremes`` (numbers at the edges of the dtypes) and
  ``test_regressions`` (one small test per bug the fuzzers found).

The number of examples follows the hypothesis profile: 100 per function by
default and in ``ci``, 1000 with ``HYPOTHESIS_PROFILE=thorough`` (the
README's long fuzz run: ``pytest tests/fuzz``).
"""
