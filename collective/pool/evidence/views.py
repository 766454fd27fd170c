"""Pages of skills proven by work: a member's skills profile, endorsing the colleagues one
worked a delivered pitch with, one's public profile settings, and the public page itself
(the one page here that needs no sign-in). Changes go through `committed`."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from collective.clock import now_utc
from collective.members.forms import ConfirmForm
from collective.members.services import get_membership
from collective.pool.evidence import endorsements, profiles, queries
from collective.pool.evidence.credits import DELIVERED_STATES
from collective.pool.evidence.forms import EndorseForm, PublicProfileForm
from collective.pool.pitches import get_pitch
from collective.pool.queries import member_names
from collective.web.forms import flash_form_errors
from collective.web.scoping import collective_view
from collective.web.transaction import committed

bp = Blueprint("evidence", __name__)
#: Skills the profile's chart shows (those with the most delivered hours).
CHART_SKILLS = 8


@bp.get("/c/<slug>/skills")
@collective_view()
def my_skills():
    """Your skills with the delivered work and endorsements behind them."""
    return _profile_page(g.membership)


@bp.get("/c/<slug>/members/<int:membership_id>/profile")
@collective_view()
def member_profile(membership_id: int):
    """A member's skills with the delivered work and endorsements behind them."""
    return _profile_page(get_membership(g.collective.id, membership_id))  # NotFound: a 404


def _profile_page(member):
    is_own = member.id == g.membership.id
    skills = queries.skill_evidence(member)
    return render_template(
        "evidence/profile.html", member=member, is_own=is_own, skills=skills,
        chart=[(e.skill, round(e.minutes / 60)) for e in skills if e.minutes][:CHART_SKILLS],
        hours_label=lambda hours: f"{hours} h",
        received=queries.endorsements_received(member),
        given=queries.endorsements_given(member) if is_own else [],
        public=profiles.profile_of(member) if is_own else None,
        withdraw_form=ConfirmForm())


def _endorse_form(pitch, workers: set[int], names: dict[int, str]) -> EndorseForm:
    form = EndorseForm()
    form.receiver_id.choices = [(None, "Choose a colleague")] + sorted(
        ((m, names[m]) for m in workers if m != g.membership.id and m in names),
        key=lambda choice: choice[1])
    form.skill.choices = [("", "Choose a skill")] + [(s.name, s.name)
                                                    for s in pitch.required_skills]
    return form


@bp.route("/c/<slug>/pitches/<int:pitch_id>/endorse", methods=["GET", "POST"])
@collective_view()
def endorse(pitch_id: int):
    """Endorse a colleague you worked a delivered pitch with, for one of its skills."""
    pitch = get_pitch(g.collective.id, pitch_id)  # NotFound: a 404
    workers = endorsements.workers_of(pitch)
    names = member_names(g.collective.id, workers)
    form = _endorse_form(pitch, workers, names)
    may_endorse = pitch.pitch_state in DELIVERED_STATES and g.membership.id in workers
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            with committed(form) as done:
                endorsements.endorse(g.membership, pitch, receiver_id=form.receiver_id.data,
                                     skill=form.skill.data, note=form.note.data, at=now_utc())
            if done:
                flash(f"You endorsed {names[form.receiver_id.data]} for {form.skill.data}.",
                      "info")
                return redirect(url_for("evidence.endorse", slug=g.collective.slug,
                                        pitch_id=pitch.id))
    return render_template(
        "evidence/endorse.html", pitch=pitch, form=form, may_endorse=may_endorse,
        workers=sorted(names[m] for m in workers if m in names),
        is_delivered=pitch.pitch_state in DELIVERED_STATES,
        given=queries.endorsements_given(g.membership, pitch_id=pitch.id),
        withdraw_form=ConfirmForm()), status


@bp.post("/c/<slug>/endorsements/<int:endorsement_id>/withdraw")
@collective_view()
def withdraw(endorsement_id: int):
    """Withdraw an endorsement you gave."""
    form = ConfirmForm()
    back = request.form.get("back") == "pitch"
    if not form.validate_on_submit():
        flash_form_errors(form)
    else:
        with committed() as done:
            given = endorsements.withdraw_endorsement(g.membership, endorsement_id,
                                                      at=now_utc())
        if done:
            flash("Your endorsement is withdrawn.", "info")
            if back:
                return redirect(url_for("evidence.endorse", slug=g.collective.slug,
                                        pitch_id=given.pitch_id))
    return redirect(url_for("evidence.my_skills", slug=g.collective.slug))


@bp.route("/c/<slug>/profile/public", methods=["GET", "POST"])
@collective_view()
def public_settings():
    """Choose the skills your public profile shows, and publish or unpublish it."""
    saved = profiles.profile_of(g.membership)
    form = PublicProfileForm(
        skills=saved.skills if saved else [],
        is_published=saved.is_published if saved else False)
    form.skills.choices = [(s, s) for s in profiles.offered_skills(g.membership)]
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            with committed(form) as done:
                saved = profiles.save_public_profile(
                    g.membership, skills=form.skills.data or [],
                    publish=bool(form.is_published.data), at=now_utc())
            if done:
                flash("Your profile is published." if saved.is_published else
                      "Your profile is not public.", "info")
                return redirect(url_for("evidence.public_settings", slug=g.collective.slug))
    return render_template("evidence/public_settings.html", form=form, saved=saved), status


@bp.get("/p/<profile_slug>")
def public_profile(profile_slug: str):
    """A member's published profile: chosen skills, the evidence and endorsements behind
    them; no sign-in needed, and nothing else of the collective."""
    if len(profile_slug) > 32:
        abort(404)
    profile = profiles.published_profile(profile_slug)  # NotFound: a 404
    member = profile.membership
    return render_template(
        "evidence/public.html", name=member.user.name,
        skills=queries.skill_evidence(member, only=profile.skills),
        received=queries.endorsements_received(member, skills=profile.skills))
