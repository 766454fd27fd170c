"""Pages for signing in, profiles, collectives, the member directory, invitations and votes.

Every change goes through `committed` (collective/web): one transaction per request."""
from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from collective.clock import now_utc
from collective.extensions import limiter
from collective.members import accounts, confirmations, pickers, services
from collective.members import invitations as invites
from collective.members import proposals as voting
from collective.members.email_views import confirmation_link
from collective.members.forms import (
    CapacityForm,
    CollectiveForm,
    ConfirmForm,
    EmailChangeForm,
    InvitationForm,
    LoginForm,
    PasswordForm,
    ProfileForm,
    RegisterForm,
    RolesForm,
    SettingsForm,
    StatusForm,
    VoteForm,
)
from collective.members.models import ProposalKind, Role
from collective.members.proposals import PROPOSAL_DETAILS
from collective.web.forms import flash_form_errors, is_safe_next
from collective.web.limits import failed, posted_address, rate, signed_in_account
from collective.web.member_field import suggestions
from collective.web.paging import page_number
from collective.web.scoping import collective_view
from collective.web.transaction import checked, committed

bp = Blueprint("members", __name__)
bp.add_app_template_global(voting.is_voting_open)
MANAGERS = services.MANAGERS
#: Members a page of the directory shows.
DIRECTORY_PAGE = 50
#: Proposals, and pending invitations, a page shows.
PROPOSALS_PAGE = 50
INVITATIONS_PAGE = 50


def _after_login_target(next_url: str | None) -> str:
    if is_safe_next(next_url):
        return next_url
    return _home_of_signed_in()


def _home_of_signed_in() -> str:
    """Where a signed-in person starts: their home across collectives (/me) when they are
    in several, else the list of their collectives."""
    if len(services.memberships_of(current_user)) > 1:
        return url_for("home.me")
    return url_for("members.collectives")


@bp.get("/")
def index():
    """Landing page, or where a signed-in person starts (see _home_of_signed_in)."""
    if current_user.is_authenticated:
        return redirect(_home_of_signed_in())
    return render_template("members/landing.html")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(rate("login_per_ip"), methods=["POST"], deduct_when=failed)
@limiter.limit(rate("login_per_account"), key_func=posted_address, methods=["POST"],
               deduct_when=failed)
def login():
    """Sign in with e-mail and password."""
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            accounts.record_failed_sign_in(form.email.data)
            form.password.errors.append("The e-mail or password is not right.")
        else:
            with committed():
                accounts.record_sign_in(user)
            session.clear()
            login_user(user, remember=form.remember.data)
            return redirect(_after_login_target(form.next.data))
    return render_template("members/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """Sign out."""
    form = ConfirmForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash("You are signed out.", "info")
        # Signing out to sign in as someone else (an invitation for another account).
        next_url = request.form.get("next")
        if is_safe_next(next_url):
            return redirect(url_for("members.login", next=next_url))
    return redirect(url_for("members.index"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(rate("register_per_ip"), methods=["POST"])
@limiter.limit(rate("register_per_address"), key_func=posted_address, methods=["POST"])
def register():
    """Create an account."""
    form = RegisterForm(next=request.args.get("next", ""))
    if request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"][:254]  # from an invitation's page
    if form.validate_on_submit():
        with committed(form) as done:
            user = accounts.register_user(form.email.data, form.name.data, form.password.data,
                                          timezone=form.timezone.data)
            confirmations.send_confirmation(user, now_utc(), confirmation_link)
        if done:
            session.clear()
            login_user(user)
            flash(f"Welcome! We sent a link to {user.email} to confirm it is yours.", "info")
            return redirect(_after_login_target(form.next.data))
    return render_template("members/register.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change your password."""
    form = PasswordForm()
    if form.validate_on_submit():
        with committed(form) as done:
            accounts.change_password(current_user, form.current_password.data,
                                     form.password.data)
        if done:
            # Other sessions end with the old password; this one carries on.
            login_user(current_user._get_current_object())
            flash("Your password is changed; other devices are signed out.", "info")
            return redirect(url_for("members.profile"))
    return render_template("members/password.html", form=form)


@bp.route("/account/profile", methods=["GET", "POST"])
@login_required
def profile():
    """Edit your name, timezone, country and skills."""
    form = ProfileForm(obj=current_user)  # its skills field reads the Skill rows as text
    if form.validate_on_submit():
        with committed(form) as done:
            accounts.update_profile(current_user, name=form.name.data,
                                    timezone=form.timezone.data, country=form.country.data,
                                    skills=form.parsed_skills)
        if done:
            flash("Your profile is saved.", "info")
            return redirect(url_for("members.profile"))
    return render_template("members/profile.html", form=form, email_form=EmailChangeForm())


@bp.get("/collectives")
@login_required
def collectives():
    """The collectives you belong to; pick one to switch to it."""
    return render_template("members/collectives.html",
                           memberships=services.memberships_of(current_user))


@bp.route("/collectives/new", methods=["GET", "POST"])
@login_required
def new_collective():
    """Start a collective; you become its first coordinator and treasurer."""
    form = CollectiveForm(timezone=current_user.timezone)  # the founder's zone, to begin
    if form.validate_on_submit():
        with committed(form) as done:
            membership = services.create_collective(
                current_user, name=form.name.data, slug=form.slug.data,
                base_currency=form.base_currency.data, timezone=form.timezone.data)
        if done:
            flash(f"{membership.collective.name} is ready. Invite your first members.", "info")
            return redirect(url_for("members.invitations", slug=membership.collective.slug))
    return render_template("members/new_collective.html", form=form)


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit(rate("invitation_per_ip"))
@limiter.limit(rate("invitation_per_account"), key_func=signed_in_account, methods=["POST"])
def accept_invitation(token: str):
    """See an invitation and accept it. Someone not signed in sees who invites them to which
    collective, and is offered an account (their invited address filled in) or sign-in,
    both coming back here."""
    form = ConfirmForm()
    now = now_utc()
    with checked() as usable:  # a refusal is flashed: the reason the link cannot be used
        invitation = invites.find_invitation(token, now)
    if not usable:
        return render_template("members/invitation_invalid.html"), usable.error.status
    if not current_user.is_authenticated:
        if request.method == "POST":
            return redirect(url_for("members.login", next=request.path))
        return render_template("members/invitation.html", invitation=invitation, form=form,
                               for_you=False, anonymous=True)
    with checked() as for_you:  # a link naming another address: said in a flash
        invites.check_recipient(invitation, current_user)
    if for_you and form.validate_on_submit():
        with committed() as done:
            membership = invites.accept_invitation(token, current_user, now)
        if done:
            flash(f"Welcome to {membership.collective.name}!", "info")
            return redirect(url_for("members.capacity", slug=membership.collective.slug))
    return render_template("members/invitation.html", invitation=invitation, form=form,
                           for_you=bool(for_you)), 200 if for_you else for_you.error.status


@bp.get("/c/<slug>/")
@collective_view()
def home():
    """The collective's home is its dashboard."""
    return redirect(url_for("dashboard.dashboard", slug=g.collective.slug))


@bp.get("/c/<slug>/members")
@collective_view()
def directory():
    """Everyone in the collective with roles, skills and weekly capacity, by name,
    DIRECTORY_PAGE a page (`?page=N`; what is not a page number shows the first)."""
    page = page_number()
    found = services.directory(g.collective.id, limit=DIRECTORY_PAGE + 1,
                               offset=(page - 1) * DIRECTORY_PAGE)
    return render_template("members/directory.html", members=found[:DIRECTORY_PAGE],
                           page=page, more=len(found) > DIRECTORY_PAGE)


@bp.get("/c/<slug>/members/search")
@collective_view(*MANAGERS)
def search():
    """Members whose name contains `?q=` (or `#id`), at most SEARCH_LIMIT, as JSON for the
    forms' member search boxes; `?active=1` finds active members only, `?removed=1` removed
    members too."""
    found = services.find_members(g.collective.id, request.args.get("q", ""),
                                  active_only=request.args.get("active") == "1",
                                  with_removed=request.args.get("removed") == "1",
                                  limit=pickers.SEARCH_LIMIT)
    return jsonify(members=suggestions(found))


@bp.route("/c/<slug>/members/<int:membership_id>", methods=["GET", "POST"])
@collective_view(*MANAGERS)
def manage_member(membership_id: int):
    """Change a member's roles, or pause, resume or remove them."""
    member = services.get_membership(g.collective.id, membership_id)  # NotFound: a 404
    roles_form = RolesForm(prefix="roles", roles=[r.value for r in member.roles])
    status_form = StatusForm(prefix="status", status=member.status, note=member.status_note)
    form = roles_form if "roles-submit" in request.form else status_form
    if form.validate_on_submit():
        with committed(form) as done:
            if form is roles_form:
                services.set_roles(g.membership, member, form.roles.data)
            else:
                services.set_status(g.membership, member, form.status.data, form.note.data)
        if done:
            flash(f"{member.user.name} is updated.", "info")
            return redirect(url_for("members.directory", slug=g.collective.slug))
    return render_template("members/manage.html", member=member, roles_form=roles_form,
                           status_form=status_form)


@bp.route("/c/<slug>/capacity", methods=["GET", "POST"])
@collective_view()
def capacity():
    """Set the hours a week you offer this collective."""
    form = CapacityForm(obj=g.membership)
    if form.validate_on_submit():
        with committed(form) as done:
            services.update_capacity(g.membership, form.weekly_capacity_hours.data)
        if done:
            flash("Your weekly capacity is saved.", "info")
            return redirect(url_for("members.home", slug=g.collective.slug))
    return render_template("members/capacity.html", form=form)


def _invitation_ttl() -> timedelta:
    return timedelta(hours=current_app.config["INVITATION_TTL_HOURS"])


def _invitations_page(form: InvitationForm, new_link: str | None = None, status: int = 200):
    """The invitations page: the form, then INVITATIONS_PAGE pending invitations a page."""
    page = page_number()
    pending = invites.pending_invitations(g.collective.id, limit=INVITATIONS_PAGE + 1,
                                          offset=(page - 1) * INVITATIONS_PAGE)
    return render_template("members/invitations.html", form=form, new_link=new_link,
                           pending=pending[:INVITATIONS_PAGE], page=page,
                           more=len(pending) > INVITATIONS_PAGE,
                           action_form=ConfirmForm(), now=now_utc(), Role=Role), status


@bp.route("/c/<slug>/invitations", methods=["GET", "POST"])
@collective_view(*MANAGERS)
def invitations():
    """Create single-use invitation links; see, resend or revoke the pending ones."""
    form = InvitationForm()
    if form.validate_on_submit():
        now = now_utc()
        with committed(form) as done:
            invitation, token = invites.create_invitation(
                g.membership, email=form.email.data or "", roles=form.roles.data,
                ttl=_invitation_ttl(), now=now)
            link = url_for("members.accept_invitation", token=token, _external=True)
            invites.mail_invitation(invitation, link, now=now)
        if done:
            if invitation.email:
                flash(f"The invitation is mailed to {invitation.email}; you can also pass "
                      "the link on yourself.", "info")
            return _invitations_page(InvitationForm(formdata=None), link)
    return _invitations_page(form, status=422 if request.method == "POST" else 200)


@bp.post("/c/<slug>/invitations/<int:invitation_id>/renew")
@collective_view(*MANAGERS)
def renew_invitation(invitation_id: int):
    """Resend an invitation: a new link with a new expiry, shown once (the old one stops
    working)."""
    new_link, status = None, 422
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
    else:
        now = now_utc()
        with committed() as done:
            invitation, token = invites.renew_invitation(g.membership, invitation_id,
                                                         ttl=_invitation_ttl(), now=now)
            new_link = url_for("members.accept_invitation", token=token, _external=True)
            invites.mail_invitation(invitation, new_link, now=now)
        if done:
            flash("The invitation has a new link and a new expiry; the old link no longer "
                  "works." + (f" The new link is mailed to {invitation.email}."
                              if invitation.email else ""), "info")
            status = 200
        else:
            new_link, status = None, done.error.status  # rolled back: that link never was
    return _invitations_page(InvitationForm(formdata=None), new_link, status)


@bp.post("/c/<slug>/invitations/<int:invitation_id>/revoke")
@collective_view(*MANAGERS)
def revoke_invitation(invitation_id: int):
    """Stop an invitation link from working."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
    else:
        with committed() as done:
            invites.revoke_invitation(g.membership, invitation_id, now=now_utc())
        if done:
            flash("The invitation is revoked: its link no longer works.", "info")
    return redirect(url_for("members.invitations", slug=g.collective.slug))


@bp.route("/c/<slug>/settings", methods=["GET", "POST"])
@collective_view(Role.TREASURER)
def settings():
    """The collective's settings: who may propose share-rule changes."""
    form = SettingsForm()
    if request.method == "GET":
        form.rule_proposers.data = ("members" if g.collective.is_rule_proposing_open
                                    else "managers")
    status = 200
    if form.validate_on_submit():
        with committed(form) as done:
            services.set_rule_proposers(g.membership,
                                        every_member=form.rule_proposers.data == "members")
        if done:
            flash("The settings are saved.", "info")
            return redirect(url_for("members.settings", slug=g.collective.slug))
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template("members/settings.html", form=form), status


@bp.get("/c/<slug>/proposals")
@collective_view()
def proposals():
    """The collective's proposals (`?kind=` one kind), open ones first, PROPOSALS_PAGE a page.
    Proposals past their deadline are decided by the scheduler (benefits/jobs.py), never by
    a page view."""
    kind = request.args.get("kind")
    kind = kind if kind in set(ProposalKind) else None
    page = page_number()
    found = voting.proposals_of(g.collective.id, kind, limit=PROPOSALS_PAGE + 1,
                                offset=(page - 1) * PROPOSALS_PAGE)
    return render_template("members/proposals.html", proposals=found[:PROPOSALS_PAGE],
                           page=page, more=len(found) > PROPOSALS_PAGE, kind=kind,
                           now=now_utc())


@bp.route("/c/<slug>/proposals/<int:proposal_id>", methods=["GET", "POST"])
@collective_view()
def proposal(proposal_id: int):
    """A proposal: what it changes, the votes so far, and your vote while voting is open."""
    item = voting.get_proposal(g.collective.id, proposal_id)  # NotFound: a 404
    now = now_utc()
    mine = next((v for v in item.votes if v.membership_id == g.membership.id), None)
    form = VoteForm(obj=mine)
    status = 200
    if request.method == "POST":
        status = 422  # unless the vote is recorded below
        if form.validate_on_submit():
            # Once voting has closed, or for a member the proposal is about, the form is not
            # shown, so its refusal is flashed.
            offered = voting.is_voting_open(item, now) and voting.may_vote(g.membership, item)
            with committed(form if offered else None) as done:
                voting.cast_vote(g.membership, item, form.choice.data, form.reason.data or "",
                                 now=now)
            if done:
                flash("Your vote is recorded. You can change it until the deadline.", "info")
                return redirect(url_for("members.proposal", slug=g.collective.slug,
                                        proposal_id=item.id))
    details = PROPOSAL_DETAILS.get(item.kind)
    template, context = details(item) if details else (None, {})
    return render_template("members/proposal.html", proposal=item, form=form, mine=mine,
                           tally=voting.tally(item), details_template=template,
                           may_vote=voting.may_vote(g.membership, item),
                           now=now, **context), status
