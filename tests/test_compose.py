"""docker-compose.yml: valid by Debian's docker-compose, and true to the repository.

No Docker engine runs here, so the file is validated rather than started: a three-node broker cluster, every
service replicated and pointed at all three nodes, two gateways behind a proxy.
"""
from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from shared import config
from tests.support.infra import IN_CI

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
SECRETS = {"NUANXIN_SECRET_KEY": "k", "POSTGRES_PASSWORD": "p", "RABBITMQ_PASSWORD": "r",
           "RABBITMQ_ERLANG_COOKIE": "c"}
BACKENDS = config.BACKENDS
GATEWAYS = ("gateway-1", "gateway-2")
APP_SERVICES = (*BACKENDS, *GATEWAYS)
BROKERS = ("rabbitmq1", "rabbitmq2", "rabbitmq3")


def mounts(service: dict) -> tuple[dict, dict]:
    """A service's bind mounts ({path in the repository: target}) and named volumes ({name: target}), in either
    of the forms docker-compose writes them."""
    binds, volumes = {}, {}
    for volume in service.get("volumes", ()):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume["source"], volume["target"]
        if source.startswith("/"):
            binds[Path(source).relative_to(ROOT).as_posix()] = target
        else:
            volumes[source] = target
    return binds, volumes


@pytest.fixture(scope="module")
def resolved() -> dict:
    """The file as docker-compose resolves it (anchors, variables), or as YAML when the tool is absent."""
    tool = shutil.which("docker-compose")
    if tool is None:
        if IN_CI:
            pytest.fail("docker-compose is not installed (make test installs it)", pytrace=False)
        pytest.skip("docker-compose is not installed")
    env = {**os.environ, **SECRETS}
    result = subprocess.run([tool, "-f", str(COMPOSE), "config"], capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_secrets_are_required_not_defaulted():
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed")
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    result = subprocess.run([tool, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode != 0
    assert "set NUANXIN_SECRET_KEY" in result.stderr or "set " in result.stderr


def test_every_part_is_there_with_healthchecks(resolved):
    services = resolved["services"]
    assert {*BROKERS, "postgres", "migrate", "proxy", *APP_SERVICES} <= set(services)
    for name in (*BROKERS, "postgres", "proxy", *APP_SERVICES):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_every_database_url_names_an_existing_service_database(resolved):
    for name in APP_SERVICES:
        env = resolved["services"][name]["environment"]
        for service in config.SERVICES:
            assert urlsplit(env[f"{service.upper()}_DATABASE_URL"]).hostname == "postgres"


def test_each_service_owns_its_database(resolved):
    urls = {}
    for name in BACKENDS:
        urls[name] = resolved["services"][name]["environment"][f"{name.upper()}_DATABASE_URL"]
    for name in GATEWAYS:
        urls[name] = resolved["services"][name]["environment"]["GATEWAY_DATABASE_URL"]
    databases = {url.rsplit("/", 1)[1] for url in urls.values()}
    assert len(databases) == len(config.SERVICES)
    init = (ROOT / "deploy" / "postgres-init.sql").read_text()
    assert all(f"CREATE DATABASE {db};" in init for db in databases)


def test_start_order_waits_for_health_and_migrations(resolved):
    services = resolved["services"]
    for name in BACKENDS:
        deps = services[name]["depends_on"]
        assert all(deps[broker]["condition"] == "service_healthy" for broker in BROKERS)
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["migrate"]["condition"] == "service_completed_successfully"
    for gateway in GATEWAYS:
        assert all(services[gateway]["depends_on"][s]["condition"] == "service_healthy" for s in BACKENDS)
    assert all(services["proxy"]["depends_on"][g]["condition"] == "service_healthy" for g in GATEWAYS)


def test_commands_name_code_that_exists(resolved):
    services = resolved["services"]
    for name in BACKENDS:
        command = services[name]["command"]
        assert command[:2] == ["nameko", "run"]
        assert (ROOT / command[command.index("--config") + 1]).is_file()
        module, cls = command[-1].split(":")
        assert getattr(importlib.import_module(module), cls).name == name
        assert (ROOT / "services" / name / "service.py").is_file()
        health = services[name]["healthcheck"]["test"]
        assert importlib.import_module(health[health.index("-m") + 1])
    for name in GATEWAYS:
        module, attribute = services[name]["command"][-1].split(":")
        assert module == "services.gateway.wsgi" and (ROOT / "services" / "gateway" / "wsgi.py").is_file()
        assert services[name]["command"][services[name]["command"].index("--bind") + 1] == "0.0.0.0:8000"
    assert (ROOT / "Dockerfile").is_file()


def test_three_broker_nodes_form_one_cluster(resolved):
    services = resolved["services"]
    cookies = {services[b]["environment"]["RABBITMQ_ERLANG_COOKIE"] for b in BROKERS}
    assert cookies == {SECRETS["RABBITMQ_ERLANG_COOKIE"]}, "the nodes must share one Erlang cookie"
    assert {services[b]["hostname"] for b in BROKERS} == set(BROKERS)
    assert all(services[b]["image"].startswith("rabbitmq:") for b in BROKERS)
    assert "management" in services["rabbitmq1"]["image"]
    data = set()
    for broker in BROKERS:
        binds, volumes = mounts(services[broker])
        assert binds == {"deploy/rabbitmq/cluster.conf": "/etc/rabbitmq/conf.d/20-cluster.conf"}
        assert list(volumes.values()) == ["/var/lib/rabbitmq"]
        data |= set(volumes)
    assert len(data) == len(BROKERS), "each node keeps its own data"
    conf = dict(line.split(" = ", 1) for line in (ROOT / "deploy" / "rabbitmq" / "cluster.conf").read_text()
                .splitlines() if line.strip() and not line.startswith("#"))
    assert conf["cluster_formation.peer_discovery_backend"] == "classic_config"
    nodes = {v for k, v in conf.items() if k.startswith("cluster_formation.classic_config.nodes.")}
    assert nodes == {f"rabbit@{b}" for b in BROKERS}
    assert conf["cluster_partition_handling"] == "pause_minority"


def test_every_process_is_given_all_three_nodes(resolved):
    for name in (*APP_SERVICES, "migrate"):
        uris = resolved["services"][name]["environment"]["AMQP_URI"].split(";")
        assert [urlsplit(uri).hostname for uri in uris] == list(BROKERS), name
        assert all(urlsplit(uri).port == 5672 and urlsplit(uri).password == SECRETS["RABBITMQ_PASSWORD"]
                   for uri in uris)


def test_every_service_runs_replicas(resolved):
    services = resolved["services"]
    for name in BACKENDS:
        assert services[name]["deploy"]["replicas"] >= 2, name
        assert "container_name" not in services[name], f"{name} could not be scaled with a fixed name"
    assert len(GATEWAYS) == 2 and not any("ports" in services[g] for g in GATEWAYS)


def test_two_gateways_behind_the_proxy(resolved):
    services = resolved["services"]
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert [(int(p["published"]), int(p["target"])) for p in proxy["ports"]] == [(8000, 80)]
    assert mounts(proxy)[0] == {"deploy/nginx/nginx.conf": "/etc/nginx/nginx.conf"}
    conf = (ROOT / "deploy" / "nginx" / "nginx.conf").read_text()
    upstream = re.search(r"upstream gateways \{(.*?)\}", conf, re.S).group(1)
    assert re.findall(r"server ([\w-]+):(\d+)", upstream) == [(g, "8000") for g in GATEWAYS]
    assert re.search(r"proxy_pass http://gateways;", conf)
    assert "X-Forwarded-For" in conf
    for gateway in GATEWAYS:
        assert services[gateway]["environment"]["NUANXIN_PROXY_HOPS"] == "1"
