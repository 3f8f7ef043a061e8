"""HTTP clients of the peer services (spec sections 12 and 15), one module per peer.

Each client raises ``PeerUnavailable`` for what may pass (timeouts, connection errors, 5xx,
408/429, an open circuit breaker) and ``PeerRejected`` for what will not (other 4xx), so callers
retry only the first.
"""


class PeerUnavailable(Exception):
    """The peer could not be reached or answered with a transient error; retrying may succeed."""


class PeerRejected(Exception):
    """The peer refused the request (4xx other than 408/429); retrying the same request will not help."""
