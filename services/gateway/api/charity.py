"""Merchants, their charity items (pledges), claims and redemptions, and micro-wishes."""
from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("charity", __name__, description="Merchants' charity items and micro-wishes")
