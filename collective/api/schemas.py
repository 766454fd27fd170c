"""What the API reads and writes, as marshmallow schemas (the OpenAPI document is made from
them). Money is integer minor units with its ISO 4217 currency; rates are decimal strings;
dates are ISO days and instants are UTC."""
from __future__ import annotations

from decimal import Decimal

import marshmallow as ma
from marshmallow import fields, validate

from collective.api.paging import DatedPageArgs, PageArgs
from collective.money import MAX_MINOR_UNITS
from collective.pool.kinds import AllocationRole
from collective.pool.models import PitchState

MAX_ID = 2**31 - 1
#: No database column takes a NUL character: refused (and documented) in every text.
_NO_NUL = validate.Regexp(r"^[^\x00]*$", error="text may not contain NUL characters")
STATES = [state.value for state in PitchState]


def text(most: int, *, least: int = 0, **kwargs) -> fields.String:
    """A text field of at most `most` characters, without NUL."""
    return fields.String(validate=[validate.Length(least, most), _NO_NUL], **kwargs)


def an_id(**kwargs) -> fields.Integer:
    """A row id: a whole number that fits the database's integer."""
    return fields.Integer(strict=True, validate=validate.Range(1, MAX_ID), **kwargs)


def currency(**kwargs) -> fields.String:
    """An ISO 4217 code (the services check it is one they know)."""
    return fields.String(validate=validate.Regexp(r"^[A-Z]{3}$"), **kwargs)


def amount(least: int = 1, **kwargs) -> fields.Integer:
    """Money in integer minor units."""
    return fields.Integer(strict=True, validate=validate.Range(least, MAX_MINOR_UNITS),
                          **kwargs)


class Rate(fields.String):
    """A positive decimal written as a string ("1.0843"), read as a Decimal."""

    #: Checked on the text, before it becomes a Decimal (the document says the same).
    PATTERN = r"^[0-9]{1,9}(\.[0-9]{1,10})?$"

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("metadata", {})["pattern"] = self.PATTERN
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        validate.Regexp(self.PATTERN, error="write the rate as digits, like 1.0843")(text)
        return Decimal(text)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format(Decimal(value).normalize(), "f")


# --- Collectives and memberships ---------------------------------------------------------

class CollectiveOut(ma.Schema):
    """A collective the caller belongs to, and the caller's part in it."""

    slug = fields.String(required=True)
    name = fields.String(required=True)
    base_currency = fields.String(required=True)
    timezone = fields.String(required=True)
    membership_id = fields.Integer(required=True, metadata={"description": "The caller's."})
    roles = fields.List(fields.String(), required=True, metadata={"description": "The "
                                                                 "caller's roles there."})


class TokenOut(ma.Schema):
    """The token a request came with, as its owner sees it (never its secret)."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True, metadata={"description": "Its first characters, "
                                                                   "to tell it apart."})
    collective = fields.String(required=True, allow_none=True, metadata={
        "description": "The one collective's slug it is limited to, if it is."})
    read_only = fields.Boolean(required=True)
    expires_at = fields.DateTime(required=True, allow_none=True)


class MeOut(ma.Schema):
    """Who the caller is: their account, and the token they came with (null for a signed-in
    browser session). Their collectives are under /collectives."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    timezone = fields.String(required=True)
    weekly_capacity_hours = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The person's own week, across every collective."})
    display_currency = fields.String(required=True, allow_none=True)
    token = fields.Nested(TokenOut, required=True, allow_none=True)


class MembershipOut(ma.Schema):
    """A member of the collective."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    status = fields.String(required=True)
    weekly_capacity_hours = fields.Integer(required=True)
    joined_at = fields.DateTime(required=True)


class MembershipArgs(PageArgs):
    """Filters of the members list."""

    status = fields.String(load_default=None, validate=validate.OneOf(
        ["active", "paused", "removed"]))


# --- Clients and pitches -----------------------------------------------------------------

class ClientIn(ma.Schema):
    """A new client."""

    name = text(120, least=1, required=True)
    country = fields.String(load_default="", validate=validate.Regexp(r"^([A-Za-z]{2})?$"))
    contact = text(200, load_default="")
    notes = text(5000, load_default="")


class ClientOut(ma.Schema):
    """A client of the collective."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    country = fields.String(required=True)
    contact = fields.String(required=True)
    notes = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class PitchIn(ma.Schema):
    """A new piece of incoming work; it starts open."""

    client_id = an_id(required=True)
    title = text(200, least=1, required=True)
    value_amount = amount(0, required=True)
    value_currency = currency(required=True)
    description = text(10000, load_default="")
    estimated_hours = fields.Integer(strict=True, load_default=0,
                                     validate=validate.Range(0, 100_000))
    deadline_on = fields.Date(load_default=None, allow_none=True)
    finder_id = an_id(load_default=None, allow_none=True)
    required_skills = fields.Dict(keys=text(60, least=1),
                                  values=fields.Integer(strict=True,
                                                        validate=validate.Range(1, 5)),
                                  load_default=dict, validate=validate.Length(max=30))


class PitchOut(ma.Schema):
    """A pitch: a piece of work the collective pitched for or is doing."""

    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    version = fields.Integer(required=True, metadata={
        "description": "Send it back with a change: a change made meanwhile is a 409."})
    value_amount = fields.Integer(required=True)
    value_currency = fields.String(required=True)
    estimated_hours = fields.Integer(required=True)
    deadline_on = fields.Date(required=True, allow_none=True)
    finder_id = fields.Integer(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class PitchArgs(DatedPageArgs):
    """Filters of the pitches list: the state, and the day each was recorded."""

    state = fields.String(load_default=None, validate=validate.OneOf(STATES))


class TransitionIn(ma.Schema):
    """Move a pitch to its next state (lost and cancelled need a note saying why)."""

    to_state = fields.String(required=True, validate=validate.OneOf(STATES))
    note = text(500, load_default="")
    version = fields.Integer(strict=True, load_default=None, allow_none=True,
                             validate=validate.Range(0, MAX_ID))


class AllocationIn(ma.Schema):
    """Give a member a part in won work (or change it)."""

    membership_id = an_id(required=True)
    role = fields.String(load_default=AllocationRole.CONTRIBUTOR.value,
                         validate=validate.OneOf([r.value for r in AllocationRole]))
    weight = fields.Integer(strict=True, load_default=1, validate=validate.Range(1, 10_000))
    weekly_hours = fields.Integer(strict=True, load_default=0, validate=validate.Range(0, 168))
    version = fields.Integer(strict=True, load_default=None, allow_none=True,
                             validate=validate.Range(0, MAX_ID))


class AllocationOut(ma.Schema):
    """A member's part in a pitch."""

    id = fields.Integer(required=True)
    pitch_id = fields.Integer(required=True)
    membership_id = fields.Integer(required=True)
    role = fields.String(required=True)
    weight = fields.Integer(required=True)
    weekly_hours = fields.Integer(required=True)


# --- Time --------------------------------------------------------------------------------

class TimeEntryIn(ma.Schema):
    """Time worked on one of the caller's own allocations."""

    allocation_id = an_id(required=True)
    worked_on = fields.Date(required=True)
    minutes = fields.Integer(strict=True, required=True, validate=validate.Range(1, 24 * 60))
    note = text(500, load_default="")


class TimeEntryOut(ma.Schema):
    """Time the caller logged."""

    id = fields.Integer(required=True)
    allocation_id = fields.Integer(required=True)
    pitch_id = fields.Integer(required=True)
    worked_on = fields.Date(required=True)
    minutes = fields.Integer(required=True)
    note = fields.String(required=True)


# --- Money -------------------------------------------------------------------------------

class PaymentIn(ma.Schema):
    """A client payment against a pitch; it is split and posted at once."""

    pitch_id = an_id(required=True)
    amount = amount(required=True)
    currency = currency(required=True)
    received_on = fields.Date(required=True)
    reference = text(120, load_default="")
    rate = Rate(load_default=None, allow_none=True, metadata={
        "description": "Units of the base currency per unit of `currency`; needed when "
                       "they differ."})
    confirm_duplicate = fields.Boolean(load_default=False, metadata={
        "description": "Record it although one like it stands (a second, separate "
                       "payment); without it such a payment is a 409."})


class PaymentOut(ma.Schema):
    """A client payment as recorded."""

    id = fields.Integer(required=True)
    pitch_id = fields.Integer(required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    rate = Rate(required=True)
    base_amount = fields.Integer(required=True)
    split_amount = fields.Integer(required=True)
    received_on = fields.Date(required=True)
    reference = fields.String(required=True)
    entry_id = fields.Integer(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class SplitLineOut(ma.Schema):
    """One member's part of a payment."""

    membership_id = fields.Integer(required=True)
    name = fields.String(required=True)
    minutes = fields.Integer(required=True)
    weight = fields.Integer(required=True)
    share = fields.Integer(required=True, allow_none=True)
    finder_fee = fields.Integer(required=True, allow_none=True)
    total = fields.Integer(required=True)


class SplitOut(ma.Schema):
    """Who got what from a payment, as far as the caller may see."""

    payment_id = fields.Integer(required=True)
    currency = fields.String(required=True, metadata={"description": "The base currency."})
    method = fields.String(required=True)
    is_reversed = fields.Boolean(required=True)
    is_rebuilt = fields.Boolean(required=True)
    common_fund = fields.Integer(required=True)
    finder_fee = fields.Integer(required=True, allow_none=True)
    members_part = fields.Integer(required=True, allow_none=True)
    lines = fields.List(fields.Nested(SplitLineOut), required=True)
    hidden_count = fields.Integer(required=True)
    hidden_total = fields.Integer(required=True)


class PayoutOut(ma.Schema):
    """Money paid out of the bank to a member (one journal entry)."""

    entry_id = fields.Integer(required=True)
    membership_id = fields.Integer(required=True)
    name = fields.String(required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    paid_on = fields.Date(required=True)
    memo = fields.String(required=True)
