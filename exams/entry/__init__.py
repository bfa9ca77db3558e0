"""Entering results: creating, changing, sending and deleting them (services), the
operator they are recorded under, and staff's Feishu identities."""
