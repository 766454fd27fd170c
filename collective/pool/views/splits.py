"""Pages of payments' splits: who got what from a payment and why, and the collective's
setting that hides other members' lines."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from collective.pool import payments as payment_services
from collective.pool import splits
from collective.pool.forms import PoolSettingsForm
from collective.pool.views.base import C, T, bp
from collective.web.scoping import collective_view
from collective.web.transaction import committed


@bp.get("/payments/<int:payment_id>")
@collective_view()
def payment(payment_id: int):
    """One client payment's split: the rule, the common fund, the finder's fee and each
    member's hours or weight with their share (others' lines hidden if the collective says
    so)."""
    paid = payment_services.get_payment(g.collective.id, payment_id)  # NotFound: a 404
    return render_template("pool/split.html", split=splits.payment_split(g.membership, paid))


@bp.route("/settings", methods=["GET", "POST"])
@collective_view(C, T)
def settings():
    """The collective's settings for the pool: whether members see each other's shares."""
    form = PoolSettingsForm()
    if request.method == "GET":
        form.is_split_private.data = g.collective.is_split_private
    elif form.validate_on_submit():
        with committed(form) as done:
            splits.set_split_privacy(g.membership, is_private=form.is_split_private.data)
        if done:
            flash("The settings are saved.", "info")
            return redirect(url_for("pool.settings", slug=g.collective.slug))
    status = 422 if request.method == "POST" else 200
    return render_template("pool/settings.html", form=form), status
