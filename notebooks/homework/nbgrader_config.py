"""nbgrader's settings for the course's homework (run nbgrader commands from this folder).

    nbgrader generate_assignment hw1 --force     # source/hw1 -> release/hw1, the student version
    coursekit grade alice.ipynb bob.ipynb --assignment hw1 --out grading/hw1   # see README, "Homework"
"""

c = get_config()  # noqa: F821 (nbgrader's config files get this from traitlets)
c.CourseDirectory.course_id = "coursekit"
# The gradebook of a release run only records the graded cells; grading keeps its own in --out.
c.CourseDirectory.db_url = "sqlite:///.release-gradebook.db"
