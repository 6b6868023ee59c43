"""Test-wide settings: pytest runs the course in its quick `smoke` profile.

Notebook kernels started by nbval inherit this environment, so
`pytest --nbval notebooks/` is fast on any machine. An explicit
COURSEKIT_PROFILE (for example `full` on a GPU runner) wins.
"""

import os

os.environ.setdefault("COURSEKIT_PROFILE", "smoke")
