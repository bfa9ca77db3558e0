"""Delivery of exam results to Feishu, at most once each. The row is the outbox.

The engine, from the bottom up (docs/architecture.md has the state machine):

- ``client``, ``limiter``, ``breaker``, ``locks``, ``enqueue``: the portal's Feishu
  client, the shared rate limit, the circuit breaker, short shared locks, and the
  one place that hands work to Celery;
- ``pump``: hands due ``pending`` rows to workers, as many as there are permits;
- ``claims``: a worker's exclusive, fenced hold on a row while it calls Feishu;
- ``sending`` and ``upload``: one call each, and what each failure leads to;
- ``reconcile``: outcomes that are unknown, looked up in tests/search first;
- ``sweep``: recovers what a lost message or a dead worker left behind;
- ``steering`` and ``restore``: what staff and operators decide (services).

Every time comparison uses the database's clock (``Now()``), never a worker's.
"""
