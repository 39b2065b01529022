"""Fixtures of the shared layer's broker tests."""
from __future__ import annotations

import pytest

from tests.support.infra import Vhost, check_broker


@pytest.fixture(scope="module")
def amqp_uri():
    """A vhost of the machine's broker for one test module, deleted after it."""
    vhost = Vhost()
    uri = vhost.create()
    check_broker(uri)
    yield uri
    vhost.delete()
