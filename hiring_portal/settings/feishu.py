"""The Feishu app the portal delivers with, and Feishu's limits."""

from django.core.exceptions import ImproperlyConfigured

from hiring_portal.feishu_target import refuse_loopback

from .environment import DEBUG, env

# The sandbox while developing; Feishu itself in production.
FEISHU_BASE_URL = env.str(
    "FEISHU_BASE_URL",
    default="http://127.0.0.1:8801" if DEBUG else "https://open.feishu.cn",
)
# Production refuses a loopback or sandbox FEISHU_BASE_URL unless this is set.
FEISHU_ALLOW_SANDBOX = env.bool("FEISHU_ALLOW_SANDBOX", default=False)
if not DEBUG and not FEISHU_ALLOW_SANDBOX:
    refuse_loopback(FEISHU_BASE_URL)
FEISHU_APP_ID = env.str("FEISHU_APP_ID", default="cli_sandbox" if DEBUG else "")
FEISHU_APP_SECRET = env.str(
    "FEISHU_APP_SECRET", default="sandbox-secret" if DEBUG else ""
)
FEISHU_USER_ID_TYPE = env.str("FEISHU_USER_ID_TYPE", default="open_id")
FEISHU_CONNECT_TIMEOUT = env.float("FEISHU_CONNECT_TIMEOUT", 5.0)
FEISHU_READ_TIMEOUT = env.float("FEISHU_READ_TIMEOUT", 20.0)
# Feishu's limits for each hire API, per app; headroom keeps a share free for other
# programs that use the same app; the margin widens each window a little because
# calls spaced a window apart here may arrive closer together at Feishu.
FEISHU_RATE_PER_SECOND = env.int("FEISHU_RATE_PER_SECOND", 50)
FEISHU_RATE_PER_MINUTE = env.int("FEISHU_RATE_PER_MINUTE", 1000)
FEISHU_RATE_HEADROOM = env.float("FEISHU_RATE_HEADROOM", 0.0)
FEISHU_RATE_WINDOW_MARGIN = env.float("FEISHU_RATE_WINDOW_MARGIN", 0.25)
FEISHU_RATE_MINUTE_WINDOW_MARGIN = env.float("FEISHU_RATE_MINUTE_WINDOW_MARGIN", 1.0)
if not DEBUG and not (FEISHU_APP_ID and FEISHU_APP_SECRET):
    raise ImproperlyConfigured(
        "FEISHU_APP_ID and FEISHU_APP_SECRET must be set when DJANGO_DEBUG=false: "
        "they are the credentials of the Feishu app that delivers exam results."
    )
