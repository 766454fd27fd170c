"""What the invoice pages share: the blueprint and the roles."""
from __future__ import annotations

from flask import Blueprint

from collective.members.models import Role

bp = Blueprint("invoices", __name__, url_prefix="/c/<slug>/books/invoices")
C, T = Role.COORDINATOR, Role.TREASURER
