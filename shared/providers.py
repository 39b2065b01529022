"""The nameko dependency providers that hand services their values: the caller and the database.

The values themselves (`shared.identity.Caller`, `shared.db.Database`) know nothing of nameko, so use-cases
and their tests import them without the framework; only a service class (`service.py`) imports this.
"""
from __future__ import annotations

from nameko.extensions import DependencyProvider

from shared.db import Database, database_for
from shared.identity import CONTEXT_KEY, Caller


class CallerProvider(DependencyProvider):
    """Injects the `Caller` of the current worker (anonymous when none was sent)."""

    def get_dependency(self, worker_ctx):
        return Caller.from_context(worker_ctx.data.get(CONTEXT_KEY))


class DatabaseProvider(DependencyProvider):
    """Injects the service's `Database`; the URL comes from `<SERVICE>_DATABASE_URL`."""

    def __init__(self, service: str):
        self.service = service
        self.database: Database | None = None

    def setup(self):
        self.database = database_for(self.service)

    def get_dependency(self, worker_ctx):
        return self.database
