"""The Feishu sandbox: ``python -m feishu.sandbox --port 8801``."""

from feishu.sandbox.server import DEFAULTS, SandboxServer, make_server

__all__ = ["DEFAULTS", "SandboxServer", "make_server"]
