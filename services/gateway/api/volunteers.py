"""Grids, teams, volunteers, actions (the three whistles), visits and grid status."""
from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("volunteers", __name__, description="Grids, teams, volunteers and actions")
