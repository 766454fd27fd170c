"""Pages of learning: the modules with "what to learn next", writing a module, one module
with its attachments, marking it done and rating it."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from collective.books.expenses.storage import receipt_storage, stored_file_response
from collective.clock import now_utc
from collective.learning import modules, queries
from collective.learning.forms import ModuleForm, RateForm
from collective.learning.markdown import render_markdown
from collective.members.accounts import skill_name
from collective.members.forms import ConfirmForm
from collective.web.forms import flash_form_errors
from collective.web.paging import page_number
from collective.web.scoping import collective_view
from collective.web.transaction import committed

bp = Blueprint("learning", __name__, url_prefix="/c/<slug>/learning")
#: Modules a page of the list shows, and the latest ratings a module's page shows.
MODULES_PAGE = 30
RATINGS_SHOWN = 20


def _to_module(module_id: int):
    return redirect(url_for("learning.module", slug=g.collective.slug, module_id=module_id))


@bp.get("/")
@collective_view()
def index():
    """The modules members may read, MODULES_PAGE a page (`?skill=` one skill's), and what
    to learn next."""
    page, skill = page_number(), skill_name(request.args.get("skill", ""))[:60]
    found = queries.modules_for(g.membership, skill=skill, limit=MODULES_PAGE + 1,
                                offset=(page - 1) * MODULES_PAGE)
    return render_template("learning/index.html", rows=found[:MODULES_PAGE], page=page,
                           more=len(found) > MODULES_PAGE, skill=skill,
                           next_skills=queries.what_to_learn_next(g.membership, g.today),
                           months=queries.DEMAND_MONTHS, able_level=queries.ABLE_LEVEL)


@bp.route("/new", methods=["GET", "POST"])
@collective_view()
def new_module():
    """Write a module for the collective (or its partners too)."""
    form = ModuleForm()
    if request.method == "GET" and request.args.get("skill"):
        form.skill.data = skill_name(request.args["skill"])[:60]
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            with committed(form, {"content": "markdown"}) as done:
                module = modules.publish_module(
                    g.membership, title=form.title.data, skill=form.skill.data,
                    estimated_minutes=form.estimated_minutes.data, content=form.markdown.data,
                    audience=form.audience.data, attachments=form.uploads(),
                    storage=receipt_storage(), now=now_utc())
            if done:
                flash("Your module is published.", "info")
                return _to_module(module.id)
    return render_template("learning/new.html", form=form), status


@bp.route("/<int:module_id>/edit", methods=["GET", "POST"])
@collective_view()
def edit_module(module_id: int):
    """The author changes their module, and may add attachments."""
    form = ModuleForm()  # built first: the form is the page's, whoever asks
    module = modules.get_module(g.membership, module_id)
    if module.author_id != g.membership.id:
        abort(404)
    if request.method == "GET":
        form.title.data, form.skill.data = module.title, module.skill
        form.estimated_minutes.data, form.markdown.data = module.estimated_minutes, module.content
        form.audience.data = str(module.audience)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            with committed(form, {"content": "markdown"}) as done:
                modules.edit_module(
                    g.membership, module, title=form.title.data, skill=form.skill.data,
                    estimated_minutes=form.estimated_minutes.data, content=form.markdown.data,
                    audience=form.audience.data, attachments=form.uploads(),
                    storage=receipt_storage(), now=now_utc())
            if done:
                flash("Your module is saved.", "info")
                return _to_module(module_id)
    return render_template("learning/new.html", form=form, module=module), status


def _render_module(module, rate_form=None, status: int = 200):
    mine = modules.completion_of(g.membership, module)
    if rate_form is None:
        rate_form = RateForm(prefix="rate", formdata=None)
        if mine is not None and mine.rating is not None:
            rate_form.rating.data, rate_form.comment.data = mine.rating, mine.comment
    return render_template(
        "learning/module.html", module=module, body=render_markdown(module.content),
        mine=mine, rate_form=rate_form, done_form=ConfirmForm(prefix="done"),
        ratings=queries.ratings_of(module, limit=RATINGS_SHOWN),
        credit=modules.author_credits([module.author_id]).get(module.author_id)), status


@bp.get("/<int:module_id>")
@collective_view()
def module(module_id: int):
    """One module: its content, attachments, your mark and the latest ratings."""
    return _render_module(modules.get_module(g.membership, module_id))


@bp.post("/<int:module_id>/done")
@collective_view()
def mark_done(module_id: int):
    """Mark a module done."""
    item = modules.get_module(g.membership, module_id)
    form = ConfirmForm(prefix="done")
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _to_module(module_id)
    with committed() as done:
        modules.mark_done(g.membership, item, now=now_utc())
    if done:
        flash("Marked done. Rate it to help the next reader.", "info")
    return _to_module(module_id)


@bp.post("/<int:module_id>/rate")
@collective_view()
def rate(module_id: int):
    """Rate a module 1 to 5 with an optional comment (again: change your rating)."""
    item = modules.get_module(g.membership, module_id)
    form = RateForm(prefix="rate")
    if form.validate_on_submit():
        with committed(form) as done:
            modules.rate_module(g.membership, item, rating=form.rating.data,
                                comment=form.comment.data or "", now=now_utc())
        if done:
            flash("Thank you: your rating is saved.", "info")
            return _to_module(module_id)
    return _render_module(modules.get_module(g.membership, module_id), form, 422)


@bp.get("/<int:module_id>/attachments/<int:attachment_id>")
@collective_view()
def attachment(module_id: int, attachment_id: int):
    """An attachment's file, to those who may read its module only, as receipts are
    served."""
    item = modules.get_attachment(g.membership, module_id, attachment_id)
    return stored_file_response(item.storage_key, content_type=item.content_type,
                                filename=item.filename)
