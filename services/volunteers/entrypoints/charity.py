"""RPC entrypoints for merchants, charity items (pledges), claims and micro-wishes."""
from __future__ import annotations


class CharityEntrypoints:
    pass
