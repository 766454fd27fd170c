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
                           form=FlaskForm())


@bp.route("/c/<slug>/webhooks/<int:endpoint_id>/<any(disable,enable,delete):action>",
          methods=["GET", "POST"])
@collective_view(Role.TREASURER)
def confirm_endpoint_change(endpoint_id: int, action: str):
    """Treasurers: confirm, then disable, enable or delete an endpoint."""
    form = FlaskForm()
    endpoint = _endpoint_or_404(endpoint_id)
    if form.validate_on_submit():
        with committed(form) as done:
            if action == "delete":
                endpoints.delete_endpoint(g.membership, endpoint)
            else:
                endpoints.set_enabled(g.membership, endpoint, action == "enable")
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
