"""The candidate tests run against the sandbox over real HTTP (and, where the
background matters, a real worker): the fixtures of tests/delivery."""

from tests.delivery.conftest import (  # noqa: F401
    sandbox,
    sandbox_server,
    start_worker,
    tmp_var,
)
