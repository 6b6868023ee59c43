"""Test-wide settings: pytest runs the course in its quick `smoke` profile, with a throwaway cache.

Notebook kernels started by nbval inherit this environment, so
`pytest --nbval notebooks/` is fast on any machine. An explicit
COURSEKIT_PROFILE (for example `full` on a GPU runner) wins.

What coursekit measures and caches (the fastest precision per network, see
coursekit.fast_path) goes to a temporary folder, so tests neither read a
decision from nor leave one in the user's cache; the dataset stays where it
was found.
"""

import os
import tempfile

os.environ.setdefault("COURSEKIT_PROFILE", "smoke")

if "COURSEKIT_DATA" not in os.environ:
    from coursekit.data import DatasetNotFoundError, find_fashion_mnist

    try:
        os.environ["COURSEKIT_DATA"] = str(find_fashion_mnist(download=False))
    except DatasetNotFoundError:
        pass  # tests that need the data say so (tests/conftest.py)
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="coursekit-tests-cache-")
