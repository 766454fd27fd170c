"""The treasurers' webhook pages: the endpoints and the subscription form, an endpoint's
deliveries with their attempts (paged, newest first), and the confirmable POSTs that
disable, enable, delete and resend."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for
from flask_wtf import FlaskForm

from collective.clock import now_utc
from collective.errors import NotFound
from collective.roles import Role
from collective.web.paging import page_number
from collective.web.scoping import collective_view
from collective.web.transaction import committed
from collective.webhooks import endpoints
from collective.webhooks.forms import EndpointForm

bp = Blueprint("webhooks", __name__)

#: What each confirmable action does, as its page and button say it.
ACTIONS = {
    "disable": ("Disable this endpoint?", "Disable",
                "No new events are queued for it; deliveries waiting for it stay in the queue "
                "and go out if it is enabled again."),
    "enable": ("Enable this endpoint?", "Enable",
               "New events are queued for it again, and deliveries that waited go out."),
    "delete": ("Delete this endpoint?", "Delete",
               "It and its deliveries are deleted, and nothing more is sent to it. The audit "
               "log keeps that it existed."),
    "rotate": ("Rotate the signing secret?", "Make a new secret",
               "A new secret is made and shown once, on the next page. For 24 hours every "
               "delivery is signed with both the new and the old secret, so the receiving "
               "program can be given the new one without refusing anything; after that, "
               "only the new one signs."),
}


def _endpoint_or_404(endpoint_id: int):
    try:
        return endpoints.get_endpoint(g.collective.id, endpoint_id)
    except NotFound:
        abort(404)


@bp.route("/c/<slug>/webhooks", methods=["GET", "POST"])
@collective_view(Role.TREASURER)
def endpoints_page():
    """Treasurers: the collective's webhook endpoints, and a form to add one."""
    form = EndpointForm()
    if form.validate_on_submit():
        config = current_app.config
        with committed(form) as done:
            endpoint = endpoints.create_endpoint(
                g.membership, url=form.url.data or "", event_types=form.event_types.data or [],
                description=form.description.data or "",
                allow_http=config["WEBHOOKS_ALLOW_HTTP"],
                allow_private=config["WEBHOOKS_ALLOW_PRIVATE_URLS"])
        if done:
            # The secret is shown on this response only, and kept by no cache.
            return (render_template("webhooks/created.html", endpoint=endpoint), 201,
                    {"Cache-Control": "no-store"})
    return render_template("webhooks/endpoints.html", form=form,
                           endpoints=endpoints.endpoints_of(g.collective.id))


@bp.get("/c/<slug>/webhooks/<int:endpoint_id>")
@collective_view(Role.TREASURER)
def endpoint_page(endpoint_id: int):
    """Treasurers: one endpoint and its deliveries, newest first, with every attempt."""
    endpoint = _endpoint_or_404(endpoint_id)
    page = endpoints.deliveries_page(endpoint, page_number())
    return render_template("webhooks/endpoint.html", endpoint=endpoint, page=page,
                           form=FlaskForm(), now=now_utc())


@bp.route("/c/<slug>/webhooks/<int:endpoint_id>/edit", methods=["GET", "POST"])
@collective_view(Role.TREASURER)
def edit_endpoint(endpoint_id: int):
    """Treasurers: change an endpoint's URL, events and note (the secret stays)."""
    endpoint = _endpoint_or_404(endpoint_id)
    form = EndpointForm(obj=endpoint)
    status = 200
    if form.validate_on_submit():
        config = current_app.config
        with committed(form) as done:
            endpoints.update_endpoint(
                g.membership, endpoint, url=form.url.data or "",
                event_types=form.event_types.data or [],
                description=form.description.data or "",
                allow_http=config["WEBHOOKS_ALLOW_HTTP"],
                allow_private=config["WEBHOOKS_ALLOW_PRIVATE_URLS"])
        if done:
            flash("The endpoint is changed.", "info")
            return redirect(url_for("webhooks.endpoint_page", slug=g.collective.slug,
                                    endpoint_id=endpoint_id))
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template("webhooks/edit.html", endpoint=endpoint, form=form), status


@bp.route("/c/<slug>/webhooks/<int:endpoint_id>/<any(disable,enable,delete,rotate):action>",
          methods=["GET", "POST"])
@collective_view(Role.TREASURER)
def confirm_endpoint_change(endpoint_id: int, action: str):
    """Treasurers: confirm, then disable, enable or delete an endpoint, or rotate its
    signing secret (the new one is shown on the answer only)."""
    form = FlaskForm()
    endpoint = _endpoint_or_404(endpoint_id)
    if form.validate_on_submit():
        with committed(form) as done:
            if action == "delete":
                endpoints.delete_endpoint(g.membership, endpoint)
            elif action == "rotate":
                endpoints.rotate_secret(g.membership, endpoint, now_utc())
            else:
                endpoints.set_enabled(g.membership, endpoint, action == "enable")
        if done and action == "rotate":
            return (render_template("webhooks/created.html", endpoint=endpoint, rotated=True),
                    200, {"Cache-Control": "no-store"})
        if done:
            flash(f"The endpoint {endpoint.url} is {action}d.", "info")
            if action == "delete":
                return redirect(url_for("webhooks.endpoints_page", slug=g.collective.slug))
            return redirect(url_for("webhooks.endpoint_page", slug=g.collective.slug,
                                    endpoint_id=endpoint_id))
    title, button, effect = ACTIONS[action]
    return render_template("webhooks/confirm.html", endpoint=endpoint, form=form,
                           action=action, title=title, button=button, effect=effect)


@bp.post("/c/<slug>/webhooks/deliveries/<int:delivery_id>/resend")
@collective_view(Role.TREASURER)
def resend_delivery(delivery_id: int):
    """Treasurers: queue a delivery again, under the same webhook-id."""
    form = FlaskForm()
    if form.validate_on_submit():
        with committed(form) as done:
            delivery = endpoints.resend_delivery(g.membership, delivery_id, now_utc())
        if done:
            flash("The delivery will be sent again within a minute, with the same "
                  "webhook-id.", "info")
            return redirect(url_for("webhooks.endpoint_page", slug=g.collective.slug,
                                    endpoint_id=delivery.endpoint_id))
        if isinstance(done.error, NotFound):
            abort(404)
    return redirect(url_for("webhooks.endpoints_page", slug=g.collective.slug))
