"""The pool tells the proposals layer about share rules when the app factory asks it to,
not as a side effect of importing its services."""
from __future__ import annotations

import importlib

from collective import pool
from collective.members import proposals
from collective.pool import rules
from collective.pool.views.share_rules import share_rule_details


def test_the_app_factory_registers_the_share_rule_adopter_and_its_proposal_page(app):
    assert proposals.ADOPTERS[rules.SHARE_RULE] == rules.SHARE_RULES.adopt
    assert proposals.PROPOSAL_DETAILS[rules.SHARE_RULE] is share_rule_details


def test_importing_the_pool_registers_nothing_until_register_kinds(app, monkeypatch):
    monkeypatch.delitem(proposals.ADOPTERS, rules.SHARE_RULE)
    monkeypatch.delitem(proposals.PROPOSAL_DETAILS, rules.SHARE_RULE)

    for name in ("rules", "payments", "views.share_rules"):
        importlib.import_module(f"collective.pool.{name}")
    assert rules.SHARE_RULE not in proposals.ADOPTERS
    assert rules.SHARE_RULE not in proposals.PROPOSAL_DETAILS

    pool.register_kinds()

    assert proposals.ADOPTERS[rules.SHARE_RULE] == rules.SHARE_RULES.adopt
    assert proposals.PROPOSAL_DETAILS[rules.SHARE_RULE] is share_rule_details
