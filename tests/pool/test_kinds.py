"""The pool's kinds and a rule in words: one sentence for the rules page and for a
share-rule proposal's default title."""
from __future__ import annotations

import pytest

from collective.pool import compute, models, rules
from collective.pool.kinds import AllocationRole, RuleTerms, SplitMethod, describe_terms

WORDS = {SplitMethod.HOURS: "by logged hours", SplitMethod.EQUAL: "equally",
         SplitMethod.WEIGHTS: "by allocation weights"}


@pytest.mark.parametrize("method", list(SplitMethod))
def test_a_rule_reads_the_same_on_its_page_and_as_a_proposals_title(method):
    terms = RuleTerms(1250, 500, method.value)
    stored = models.ShareRule(common_fund_bp=1250, finder_fee_bp=500, method=method)

    sentence = describe_terms(terms)

    assert sentence == f"12.5% common fund, 5% finder's fee, the rest {WORDS[method]}"
    assert stored.describe() == sentence
    assert rules.SHARE_RULES.default_title(terms) == f"Share rule: {sentence}"


def test_the_models_and_compute_use_the_same_kinds():
    assert models.SplitMethod is SplitMethod
    assert models.AllocationRole is AllocationRole
    assert compute.RuleTerms is RuleTerms
