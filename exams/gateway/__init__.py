"""The portal's access to Feishu and to Celery, shared by delivery and the
candidate lookups: the client (one per process, its token in a shared store),
the deployment-wide rate limit per Feishu API, the circuit breaker that pauses
delivery, short shared locks, what Feishu's errors mean for staff, and the one
place that hands work to Celery (``enqueue``)."""
