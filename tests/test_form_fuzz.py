"""Hypothesis posts generated data to every form, found from the url map: never a 500, a
refused post writes nothing, and the ledger still balances afterwards.

One person holding every role in the demo collective posts to each POST endpoint, with a
valid CSRF token. The fields come from the forms the view itself builds (recorded while it
runs), so a new form is fuzzed without naming it here. Values: unicode text, empty, huge,
numbers (negative, decimals with many places, NaN, other scripts' digits), dates out of
range, ids of another collective's objects, choices not offered. URL ids come from every
collective's rows, ours and the archived demo's.
"""
from __future__ import annotations

import io
import os
from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FieldList,
    FileField,
    FormField,
    IntegerField,
    MonthField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    SubmitField,
)

from collective.api.models import ApiToken
from collective.benefits.models import Claim
from collective.books.bank.models import BankAccount, BankLine, FeeRule
from collective.books.expenses.models import Expense, ExpenseCategory
from collective.books.invoices.models import Invoice, TaxRate
from collective.demo import DEMO_PASSWORD, archive_demo, load_demo
from collective.extensions import db, limiter
from collective.federation.models import Federation, SharedPitch
from collective.learning.models import LearningModule
from collective.ledger.balances import check_ledger, run_extra_checks
from collective.ledger.models import JournalEntry
from collective.mail.models import OutboxMessage
from collective.members import services
from collective.members.models import Invitation, Membership, Proposal, Role
from collective.notifications.models import Notification
from collective.pool.evidence.models import Endorsement
from collective.pool.models import Client, ClientPayment, Pitch, TimeEntry
from collective.standards.models import Checklist, Delivery, DeliveryItem
from collective.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.forms import form_values
from tests.test_routes import _rules

#: Examples per endpoint: enough to meet every kind of value, small enough that the whole
#: module runs in about a minute on SQLite. The PostgreSQL pass replays the first half of
#: the same (derandomized) examples, for what only that database refuses, in half the time.
#: FORM_FUZZ_EXAMPLES=200 searches harder, and FORM_FUZZ_ONLY=members.login,pool.clients
#: fuzzes those endpoints only.
_ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith("postgresql")
FUZZ = settings(max_examples=int(os.environ.get("FORM_FUZZ_EXAMPLES",
                                                "5" if _ON_POSTGRESQL else "10")),
                derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate, Phase.shrink])

#: POST endpoints that build no form of their own, each for a reason.
FORMLESS = {
    # RFC 8058 one-click unsubscribe: the mail client posts the signed link, nothing else.
    "notifications.unsubscribe",
}

#: The JSON API takes no forms: schemathesis fuzzes it instead (tests/api/test_schemathesis.py).
API_PREFIX = "/api/"

#: Refusals: the post changed nothing. (405 never: every rule here takes POST.)
REFUSED = {400, 403, 404, 409, 413, 422, 429}

#: The table each URL id names; `entry_id` is a journal entry on the ledger's pages.
ID_TABLES = {
    "account_id": BankAccount, "rule_id": FeeRule, "line_id": BankLine,
    "expense_id": Expense, "category_id": ExpenseCategory, "invoice_id": Invoice,
    "rate_id": TaxRate, "claim_id": Claim, "invitation_id": Invitation,
    "entry_id": JournalEntry, "message_id": OutboxMessage, "membership_id": Membership,
    "notification_id": Notification, "client_id": Client, "payment_id": ClientPayment,
    "pitch_id": Pitch, "proposal_id": Proposal, "endpoint_id": WebhookEndpoint,
    "delivery_id": WebhookDelivery, "token_id": ApiToken,
    "federation_id": Federation, "shared_id": SharedPitch, "module_id": LearningModule,
    "checklist_id": Checklist, "endorsement_id": Endorsement,
}
ID_TABLES_BY_ENDPOINT = {("pool.edit_time_entry", "entry_id"): TimeEntry,
                         ("pool.delete_time_entry", "entry_id"): TimeEntry,
                         ("standards.confirm", "delivery_id"): Delivery,
                         ("standards.confirm", "item_id"): DeliveryItem}

HUGE_NUMBER = "9" * 40
WEIRD = ["", " ", "0", "-0", "-1", "1e999", "-1E-999", "NaN", "Infinity", "١٢", "２", "0x10",
         "1,000.00", "1.000,00", "\u202e", "😀", "<script>", "' OR 1=1 --", "a\x00b",
         "\t\n", HUGE_NUMBER, "x" * 300, "Ω" * 5000, "2026-02-30", "0001-01-01",
         "9999-12-31", "10000-01-01", "2026-13", "0000-00"]

numbers = st.one_of(
    st.integers(-10**20, 10**20).map(str),
    st.from_regex(r"-?[0-9]{1,22}\.[0-9]{1,30}", fullmatch=True),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
texts = st.one_of(st.text(max_size=40), st.sampled_from(WEIRD), numbers)
ids = st.one_of(st.integers(0, 300), st.integers(-5, 2**40)).map(str)
dates = st.one_of(st.dates().map(date.isoformat), st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
                  st.sampled_from(WEIRD))
months = st.one_of(st.dates().map(lambda d: d.strftime("%Y-%m")), st.sampled_from(WEIRD))
request_keys = st.one_of(st.from_regex(r"[a-z0-9]{8,32}", fullmatch=True), texts)
uploads = st.builds(
    lambda content, name: (io.BytesIO(content), name),
    st.one_of(st.binary(max_size=300),
              st.text(max_size=200).map(lambda t: ("date,amount,text\n" + t).encode()),
              st.sampled_from([b"%PDF-1.4\n", b"\x89PNG\r\n\x1a\n", b"date,amount\n2026-01-01,"
                               b"1e999\n"])),
    st.sampled_from(["statement.csv", "receipt.pdf", "r.png", "", "../../x.csv", "a" * 300]))


def _choice_values(field) -> list[str]:
    """The values a select or radio field offers (optgroups flattened)."""
    choices = field.choices or []
    if isinstance(choices, dict):
        choices = [c for group in choices.values() for c in group]
    return [str(c[0]) if isinstance(c, (tuple, list)) else str(c) for c in choices]


def _values(field) -> st.SearchStrategy:
    """What to post in one field: values of its kind, or anything at all."""
    if isinstance(field, SubmitField):
        return st.sampled_from(["y", "", field.label.text])
    if isinstance(field, BooleanField):
        return st.one_of(st.sampled_from(["y", "", "false", "on"]), texts)
    if isinstance(field, MultipleFileField):
        return st.lists(uploads, max_size=3)
    if isinstance(field, FileField):
        return uploads
    offered = _choice_values(field) if isinstance(field, (SelectField, RadioField,
                                                        SelectMultipleField)) else []
    choice = st.one_of(st.sampled_from(offered), texts, ids) if offered else st.one_of(texts, ids)
    if isinstance(field, SelectMultipleField):
        return st.lists(choice, max_size=4)
    if isinstance(field, (SelectField, RadioField)):
        return choice
    if isinstance(field, DateField):
        return dates
    if isinstance(field, MonthField):
        return months
    if isinstance(field, IntegerField):
        return st.one_of(ids, numbers, texts)
    if isinstance(field, DecimalField):
        return st.one_of(numbers, texts)
    if field.short_name == "request_key":
        return request_keys
    return texts


def _flat(fields):
    """Every leaf field, with FieldList entries and FormFields opened up."""
    for f in fields:
        if isinstance(f, FieldList):
            yield from _flat(f.entries)
        elif isinstance(f, FormField):
            yield from _flat(f.form)
        elif f.short_name != "csrf_token":
            yield f


@st.composite
def form_data(draw, forms: list[list], shown: dict[str, str]) -> dict:
    """The data of one post: the form as the page showed it with a few fields changed or left
    out, or every field generated; from one of the view's forms."""
    fields = draw(st.sampled_from(forms)) if forms else []
    if shown and draw(st.booleans()):
        data = dict(shown)
        changed = draw(st.sets(st.sampled_from([f.name for f in fields] or ["x"]), max_size=3))
    else:
        data, changed = {}, {f.name for f in fields}
    for f in fields:
        if f.name in changed:
            data.pop(f.name, None)
            value = draw(st.one_of(st.none(), _values(f)))
            if value is not None:
                data[f.name] = value
    return data


def _row_counts() -> dict[str, int]:
    """Rows in every table, in one query."""
    counts = [sa.select(sa.func.count()).select_from(t).scalar_subquery().label(t.name)
              for t in db.metadata.sorted_tables]
    return dict(db.session.execute(sa.select(*counts)).one()._mapping)


def _newest_actions(count: int) -> list[str]:
    """The distinct actions of the `count` newest audit events."""
    from collective.audit.models import AuditEvent
    return sorted(set(db.session.scalars(
        sa.select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(count))))


def _url_ids(endpoint: str, arg: str) -> list[int]:
    """Ids for a URL argument: every row of its table, whichever collective owns it."""
    model = ID_TABLES_BY_ENDPOINT.get((endpoint, arg)) or ID_TABLES.get(arg)
    assert model is not None, f"name the table of <int:{arg}> in ID_TABLES ({endpoint})"
    return list(db.session.scalars(sa.select(model.id).order_by(model.id)))


@pytest.fixture
def seeded(app, setup):
    """The demo collective twice: the archived one's rows are another collective's. The
    founder holds every role in the live one."""
    with setup():
        load_demo(date.today())
        archive_demo()
        collective = load_demo(date.today())
        founder = next(m for m in collective.memberships
                       if m.user.email == "maria@demo.coop")
        anjali = next(m for m in collective.memberships
                      if m.user.email == "anjali@demo.coop")
        services.set_roles(anjali, founder, [Role.MEMBER, Role.COORDINATOR, Role.TREASURER])
        db.session.commit()
        return founder.user.email, founder.id


def _record_forms(monkeypatch) -> list[FlaskForm]:
    """Keep every FlaskForm a view builds (each one's formdata passes through its Meta)."""
    built: list[FlaskForm] = []
    original = FlaskForm.Meta.wrap_formdata

    def wrap_formdata(self, form, formdata):
        built.append(form)
        return original(self, form, formdata)

    monkeypatch.setattr(FlaskForm.Meta, "wrap_formdata", wrap_formdata)
    return built


class Poster:
    """Posts as the fuzzing person, signed in again whenever a post signed them out (the
    logout and login forms are fuzzed too), and tallies what came back."""

    def __init__(self, client, setup, email: str, built: list[FlaskForm]) -> None:
        self.client, self.setup, self.email, self.built = client, setup, email, built
        self.statuses: Counter = Counter()
        self.posts: Counter = Counter()

    def sign_in(self) -> None:
        """Sign in unless signed in; the rate limits start afresh (they have their own
        tests, and the fuzz is about input)."""
        limiter.reset()
        with self.client.session_transaction() as session:
            if session.get("_user_id"):
                return
        response = self.client.post("/login", data={"email": self.email,
                                                    "password": DEMO_PASSWORD})
        assert response.status_code == 302

    def fuzz(self, endpoint: str, urls: st.SearchStrategy, data: st.SearchStrategy) -> None:
        """Post generated data to generated URLs of one endpoint: never a 500, and a refusal
        (an error status, or the form shown again with an error) adds or removes no row."""

        @FUZZ
        @given(url=urls, data=data)
        def post(url, data):
            self.sign_in()
            with self.setup():
                before = _row_counts()
            self.built.clear()
            response = self.client.post(url, data=data, content_type="multipart/form-data")
            self.posts[endpoint] += 1
            self.statuses[response.status_code] += 1
            assert response.status_code < 500, (url, data, response.status_code)
            # Shown again with an error: a form the view validated holds it.
            refused = response.status_code in REFUSED or (
                response.status_code == 200 and any(form.errors for form in self.built))
            if refused:
                with self.setup():
                    after = _row_counts()
                    recorded = _newest_actions(after["audit_events"] - before["audit_events"])
                changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
                if endpoint == "members.login" and set(changed) == {"audit_events"}:
                    # A refused sign-in is itself recorded, apart: a failed-login event.
                    assert recorded == ["account.login_failed"], (url, data, recorded)
                    changed = {}
                assert not changed, (url, data, response.status_code, changed)

        post()


def test_every_form_survives_generated_input(app, client, setup, seeded, monkeypatch):
    email, own_membership = seeded
    built = _record_forms(monkeypatch)
    poster = Poster(client, setup, email, built)
    poster.sign_in()
    with setup():
        url_ids = {(rule.endpoint, arg): _url_ids(rule.endpoint, arg)
                   for rule in _rules(app) if "POST" in rule.methods
                   and not rule.rule.startswith(API_PREFIX)
                   for arg, conv in rule._converters.items()
                   if isinstance(conv, IntegerConverter) and arg != "year"}
    only = set(filter(None, os.environ.get("FORM_FUZZ_ONLY", "").split(",")))
    posting = [rule for rule in _rules(app)
               if "POST" in rule.methods and rule.endpoint not in FORMLESS
               and not rule.rule.startswith(API_PREFIX)
               and (not only or rule.endpoint in only)]
    ours = [i for i in url_ids.get(("members.manage_member", "membership_id"), [])
            if i != own_membership]  # taking one's own roles away would end the fuzz
    # Every view's forms first, before any fuzzing deletes the rows their pages show.
    probed = {rule.endpoint: _probe(client, rule, url_ids, ours, built, poster.sign_in)
              for rule in posting}
    formless = [endpoint for endpoint, (forms, _) in probed.items() if not forms]
    failures = []
    for rule in posting:
        forms, shown = probed[rule.endpoint]
        try:
            poster.fuzz(rule.endpoint, _url_strategy(rule, url_ids, ours),
                        form_data(forms, shown))
        except Exception as exc:  # a view's exception is a 500 in production
            found = [exc, *getattr(exc, "exceptions", ())]  # a flaky one holds its failures
            failures.append(f"{rule.endpoint}: " + "; ".join(
                f"{type(e).__name__}: {e}"[:2000] for e in found))
    assert not failures, "\n".join(failures)
    assert not formless, f"POST endpoints that build no form: {formless}"
    assert len(poster.posts) >= (75 if not only else len(only))
    # Not only refusals: generated posts also went through (a redirect after the change).
    assert only or poster.statuses[302] >= 5 * FUZZ.max_examples, poster.statuses
    with setup():
        ledger = check_ledger()
        assert ledger.ok and ledger.entries > 100, ledger
        assert not any(run_extra_checks().values())


def _arg_values(rule, arg: str, url_ids, ours) -> st.SearchStrategy:
    """Values for one URL argument."""
    converter = rule._converters[arg]
    if arg == "slug":
        return st.just("demo")
    if arg == "year":
        return st.integers(0, 10_000)
    if isinstance(converter, IntegerConverter):
        found = ours if arg == "membership_id" else url_ids[(rule.endpoint, arg)]
        return st.one_of(st.sampled_from(found or [1]), st.integers(1, 2**31 - 1))
    if "Any" in type(converter).__name__:
        return st.sampled_from(sorted(converter.items))
    if arg == "period":
        return months
    return st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                          blacklist_characters="/"), min_size=1, max_size=60)


def _url_strategy(rule, url_ids, ours) -> st.SearchStrategy:
    """URLs of the rule with generated arguments."""
    args = {arg: _arg_values(rule, arg, url_ids, ours) for arg in rule.arguments
            if not (rule.defaults and arg in rule.defaults)}
    return st.fixed_dictionaries(args).map(lambda values: rule.build(values,
                                                                     append_unknown=False)[1])


def _probe(client, rule, url_ids, ours, built, signed_in):
    """The forms the view builds (fields, with choices filled in) and what its page shows in
    them, from a request as a browser would first make it: a GET where the rule takes one,
    for the newest of our rows that the person may open."""
    method = "GET" if "GET" in rule.methods else "POST"
    for newest in range(1, 30):
        signed_in()
        built.clear()
        response = client.open(_url_for_row(rule, url_ids, ours, newest), method=method)
        assert response.status_code < 500, (rule.rule, response.status_code)
        if built:
            shown = form_values(response.get_data(as_text=True)) if method == "GET" else {}
            shown.pop("csrf_token", None)
            return [list(_flat(form)) for form in built], shown
    return [], {}


def _url_for_row(rule, url_ids, ours, newest: int) -> str:
    """The rule's URL for the n-th newest row of each id's table (the live demo's first)."""
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        if arg == "slug":
            values[arg] = "demo"
        elif arg == "year":
            values[arg] = date.today().year - 1
        elif isinstance(converter, IntegerConverter):
            found = ours if arg == "membership_id" else url_ids[(rule.endpoint, arg)]
            values[arg] = found[-min(newest, len(found))] if found else 1
        elif "Any" in type(converter).__name__:
            values[arg] = sorted(converter.items)[0]
        elif arg == "period":
            values[arg] = date.today().strftime("%Y-%m")
        else:
            values[arg] = "x"
    return rule.build(values, append_unknown=False)[1]
