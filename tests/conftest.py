"""Hypothesis profiles: ``ci`` is chosen by hypothesis itself when CI is set.

``HYPOTHESIS_PROFILE=dev`` runs few examples for quick local loops;
``HYPOTHESIS_PROFILE=thorough`` runs many, for release checks.
"""

import os

from hypothesis import settings

settings.register_profile("dev", max_examples=10)
settings.register_profile("thorough", max_examples=1000, deadline=None)

if "HYPOTHESIS_PROFILE" in os.environ:
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
