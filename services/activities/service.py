"""Entrypoints of the activities service (thin: validate, authorise via the caller, delegate)."""
from __future__ import annotations

from services.activities.models import infra
from shared.service import ServiceBase


class ActivitiesService(ServiceBase, infra=infra):
    name = "activities"
