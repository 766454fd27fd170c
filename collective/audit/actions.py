"""Every action the audit log records: a short stable code, and what the page calls it.

The codes are stored in the table and filtered on, so they never change once released; a
new kind of event gets a new code here (no migration needed: the column is free text, and
`record` refuses a code not listed)."""
from __future__ import annotations

#: code -> how the audit page names it, in the order the filter lists them.
ACTIONS: dict[str, str] = {
    # Accounts (collective_id empty: the account's collectives' treasurers see them).
    "account.registered": "Account registered",
    "account.signed_in": "Signed in",
    "account.login_failed": "Failed sign-in",
    "account.password_changed": "Password changed",
    "account.password_reset_requested": "Password reset link asked for",
    "account.password_reset": "Password reset by e-mailed link",
    "account.email_changed": "E-mail address changed",
    "account.api_token_created": "API token created",
    "account.api_token_revoked": "API token revoked",
    # The collective, memberships and invitations.
    "collective.created": "Collective founded",
    "membership.role_changed": "Roles changed",
    "membership.status_changed": "Membership status changed",
    "invitation.sent": "Invitation sent",
    "invitation.renewed": "Invitation renewed",
    "invitation.accepted": "Invitation accepted",
    "invitation.revoked": "Invitation revoked",
    # Rules, plans and votes.
    "terms.founded": "Founding share rule or benefit plan set",
    "proposal.adopted": "Proposal passed",
    "proposal.rejected": "Proposal did not pass",
    "proposal.withdrawn": "Proposal withdrawn",
    # Partners between collectives (collective/federation).
    "federation.proposed": "Partnership proposed",
    "federation.agreed": "Partnership agreed by vote",
    "federation.declined": "Partnership declined by vote",
    "federation.left": "Partnership ended",
    "shared_pitch.proposed": "Pitch shared with a partner",
    "shared_pitch.answered": "Partner answered a shared pitch",
    "shared_pitch.requested": "Member asked to hire a partner as supplier",
    "shared_pitch.confirmed": "Request to hire a partner confirmed",
    "shared_pitch.turned_down": "Request to hire a partner turned down",
    "shared_pitch.request_withdrawn": "Request to hire a partner withdrawn",
    "settlement.recorded": "Settlement with a partner recorded",
    # Claims and payouts.
    "claim.approved": "Claim approved",
    "claim.rejected": "Claim rejected",
    "fund_run.posted": "Fund run posted",
    "payout.posted": "Payout posted",
    "deposit.recorded": "Deposit recorded",
    # The ledger.
    "entry.reversed": "Journal entry reversed",
    "year.closed": "Year closed",
    # Webhooks (collective/webhooks).
    "webhook.created": "Webhook endpoint added",
    "webhook.disabled": "Webhook endpoint disabled",
    "webhook.enabled": "Webhook endpoint enabled",
    "webhook.deleted": "Webhook endpoint deleted",
    "webhook.updated": "Webhook endpoint changed",
    "webhook.rotated": "Webhook signing secret rotated",
    "webhook.resent": "Webhook delivery resent",
    # Downloads.
    "export.ledger": "Ledger exported",
    "export.statement": "Statement downloaded",
    "export.audit_log": "Audit log downloaded",
}


def action_label(code: str) -> str:
    """What the page calls an action; the code itself for one no longer listed."""
    return ACTIONS.get(code, code)
