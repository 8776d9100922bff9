"""The node-hub protocol: envelopes, outbox/inbox, idempotency, the typed hub client.

Knows nothing of hub or node internals; both sides import it.
"""
