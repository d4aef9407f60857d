"""How pages say what put the champion in force: promoted, restored by a rollback, approved."""

from __future__ import annotations

# The manifest's action in the past tense ("promoted by Bob on ...").
PAST_TENSE = {"promote": "promoted", "rollback": "restored by a rollback", "approve": "approved"}


def put_in_force(action: str) -> str:
    """The manifest action that put the champion in force, in the past tense (unknown as is)."""
    return PAST_TENSE.get(action, action)
