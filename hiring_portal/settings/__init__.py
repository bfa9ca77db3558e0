"""Settings for hiring_portal, by concern, read from the environment with
django-environ. Each variable is set once, in the module of its concern; every
one a deployment can set is listed in ``.env.example`` and the README.

With no environment at all the project runs on the embedded default (SQLite,
the filesystem broker, the database cache; see ``services``).
"""

# In this order: each module reads what the ones before it settled, and a
# deployment missing its secrets is told about the first one first.
# isort: off
from .environment import *  # noqa: F403
from .django import *  # noqa: F403
from .services import *  # noqa: F403
from .feishu import *  # noqa: F403
from .delivery import *  # noqa: F403
from .importing import *  # noqa: F403
from .audit import *  # noqa: F403
from .production import *  # noqa: F403
from .tasks import *  # noqa: F403
# isort: on
