"""The dual-channel approval state machine (FR-6), as a pure function.

pending --actor approves--> first_approved --designated approver approves--> fully_approved
pending | first_approved --either rejects--> rejected
Anything else (out of order, repeated, after the end) is refused.
"""

from __future__ import annotations

TRANSITIONS = {
    ("pending", "actor_approve"): "first_approved",
    ("first_approved", "approver_approve"): "fully_approved",
    ("pending", "reject"): "rejected",
    ("first_approved", "reject"): "rejected",
}


class InvalidTransition(ValueError):
    """The event is not allowed in the current state; ``str()`` says why."""


def transition(status: str, event: str) -> str:
    """Return the state after ``event`` in ``status``.

    Raises:
        InvalidTransition: e.g. the approver before the actor, a second actor approval, or any
            event after ``fully_approved`` or ``rejected``.
    """
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        if status in ("fully_approved", "rejected"):
            raise InvalidTransition(f"the approval is already {status}") from None
        if event == "approver_approve":
            raise InvalidTransition("the actor must approve first") from None
        raise InvalidTransition(
            f"{event.replace('_', ' ')} is not allowed when {status.replace('_', ' ')}"
        ) from None
