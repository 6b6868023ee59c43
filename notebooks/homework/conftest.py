"""Keep the homework out of `pytest --nbval notebooks/`.

The released notebooks stop at their first `raise NotImplementedError()` by design, and the
solved sources are executed by tests/test_grade.py, which grades them (and the fixtures) the
way a teaching assistant would.
"""

collect_ignore_glob = ["*.ipynb"]
