"""Each member's reserve and gift debt from their run lines: signed sums by the kind of
line, over a frame of many members (the runs, the checks) or one member's lines (their own
page). Pure: no Flask, no database."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from collective.benefits.models import RunLineKind

if TYPE_CHECKING:
    import pandas as pd


#: How each kind of run line moves a member's reserve (the others leave it alone).
_RESERVE_SIGN = {RunLineKind.CONTRIBUTION.value: 1, RunLineKind.SETTLED.value: 1,
                 RunLineKind.DEBT.value: 1, RunLineKind.RETURN.value: -1,
                 RunLineKind.GIFT.value: -1, RunLineKind.DEBT_PAID.value: -1,
                 RunLineKind.LEAVING.value: -1}
#: How each kind of run line moves what a member owes the fund for gifts.
_DEBT_SIGN = {RunLineKind.DEBT.value: 1, RunLineKind.DEBT_PAID.value: -1}


def reserves(lines: pd.DataFrame) -> pd.Series:
    """Each member's reserve: contributions (and settled arrears) not returned and not given
    away as gifts (a gift's part the donor owes is not taken from it), less what paid back
    such debts. lines: membership_id, kind, amount. Indexed by membership_id."""
    return _signed_sum(lines, _RESERVE_SIGN)


def gift_debts(lines: pd.DataFrame) -> pd.Series:
    """What each member owes the fund for gifts their reserve could not cover, less what
    their contributions paid back. lines: membership_id, kind, amount."""
    return _signed_sum(lines, _DEBT_SIGN)


def reserve_of(lines: Iterable[tuple[str, int]]) -> int:
    """One member's reserve from their run lines' (kind, amount): `reserves` for one."""
    return sum(amount * _RESERVE_SIGN.get(kind, 0) for kind, amount in lines)


def _signed_sum(lines: pd.DataFrame, signs: Mapping[str, int]) -> pd.Series:
    import pandas as pd
    if lines.empty:
        return pd.Series(dtype="int64")
    sign = lines["kind"].map(signs).fillna(0).astype("int64")
    return (lines["amount"].astype("int64") * sign).groupby(lines["membership_id"]).sum()
