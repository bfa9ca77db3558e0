"""The audit trail and what reads it: field history, attempts with hints, the
reviewers' page, corrections made in Feishu, alert emails and retention."""
