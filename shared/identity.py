"""Who is calling: authenticated by the gateway, carried in nameko context data, read by services.

Services never trust a user id sent in a request body; they read the caller through `shared.providers.CallerProvider`.
Service-to-service RPC keeps the original caller because nameko forwards context data.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from shared.errors import Forbidden, Unauthenticated

CONTEXT_KEY = "nuanxin.caller"
REQUEST_ID_KEY = "nuanxin.request_id"
# The key that makes a state-changing request take effect once (shared/idempotency.py).
IDEMPOTENCY_KEY = "nuanxin.idempotency_key"
# When the caller stops waiting (Unix time): a keyed request that cannot commit by then does nothing.
DEADLINE_KEY = "nuanxin.deadline"

ROLES = ("resident", "merchant", "volunteer", "coordinator", "space_manager", "admin")
BENEFICIARY_GROUPS = ("rider", "courier", "sanitation", "elderly", "outdoor")


@dataclass(frozen=True)
class Caller:
    """Who is calling and with which roles. A coordinator's grids are not here: the volunteers service's grid
    tree is the one record of coordinator scope (docs/architecture.md), asked where a scope is checked."""

    user_id: int | None
    roles: frozenset[str] = frozenset()
    # Beneficiary groups a coordinator confirmed for this account.
    groups: tuple[str, ...] = ()
    locale: str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    display_name: str = ""
    system: bool = False
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None or self.system

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles or self.system

    def has_role(self, *roles: str) -> bool:
        return self.is_admin or bool(self.roles.intersection(roles))

    def require(self) -> Caller:
        if not self.authenticated:
            raise Unauthenticated("Sign in first.")
        return self

    def require_role(self, *roles: str) -> Caller:
        self.require()
        if not self.has_role(*roles):
            raise Forbidden(f"This needs one of the roles: {', '.join(roles)}.")
        return self

    def to_context(self) -> dict:
        # Field by field (`asdict` deep-copies every value, on each RPC the gateway sends).
        return {"user_id": self.user_id, "roles": sorted(self.roles), "groups": list(self.groups),
                "locale": self.locale, "timezone": self.timezone, "display_name": self.display_name,
                "system": self.system, "extra": copy.deepcopy(self.extra) if self.extra else {}}

    @classmethod
    def from_context(cls, data: dict | None) -> Caller:
        if not data:
            return ANONYMOUS
        return cls(
            user_id=data.get("user_id"),
            roles=frozenset(data.get("roles") or ()),
            groups=tuple(data.get("groups") or ()),
            locale=data.get("locale") or "zh-CN",
            timezone=data.get("timezone") or "Asia/Shanghai",
            display_name=data.get("display_name") or "",
            system=bool(data.get("system")),
            extra=data.get("extra") or {},
        )


ANONYMOUS = Caller(user_id=None)
SYSTEM = Caller(user_id=None, roles=frozenset({"admin"}), system=True, display_name="system")


def context_for(caller: Caller, request_id: str | None = None, idempotency_key: str | None = None,
                deadline: float | None = None) -> dict:
    """Context data to attach to an outgoing RPC call."""
    data = {CONTEXT_KEY: caller.to_context()}
    if request_id:
        data[REQUEST_ID_KEY] = request_id
    if idempotency_key:
        data[IDEMPOTENCY_KEY] = idempotency_key
    if deadline:
        data[DEADLINE_KEY] = deadline
    return data


def actor_name(caller: Caller | None) -> str:
    """The name a timeline or a message shows for who acted, as it is now ("" for the system or nobody)."""
    if caller is None or caller.user_id is None:
        return ""
    return caller.display_name or ""
