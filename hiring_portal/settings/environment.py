"""Where the settings come from: the environment (OS variables win), then a
``.env`` file when there is one; the project's paths; whether this is DEBUG."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# OS variables win over the file: read_env() never overwrites what is already set.
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

# Everything the embedded default writes (SQLite, broker folders, the limiter,
# the beat schedule, uploads) lives here.
VAR_DIR = Path(env.str("HIRING_PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=True)
