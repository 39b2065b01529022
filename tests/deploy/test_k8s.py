"""deploy/k8s: the Kubernetes manifests, validated offline (no cluster is needed).

The API's own kinds are checked by kubernetes-validate against the Kubernetes JSON schemas it bundles, in
strict mode (an unknown field is an error). The operators' custom resources (RabbitmqCluster, CloudNativePG's
Cluster and Pooler) are checked with jsonschema against their CRDs' schemas, trimmed to the fields used
(tests/deploy/crd_schemas.py names the releases they come from). Then what the manifests promise: replicas
with probes and resource requests for every process, three broker nodes that every process is given, a
primary with replicas behind PgBouncer in transaction mode, the gateway behind a Service and an Ingress,
and Secrets referenced, never committed.
"""
from __future__ import annotations

import copy
import importlib
import json
import re
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml

from shared import config
from tests.deploy.crd_schemas import MANIFESTS, SCHEMAS, SOURCES, manifests

ROOT = MANIFESTS.parent.parent
KUBERNETES = "1.33.0"
# The Secrets the manifests may name: made by the operator, or by hand (kustomization.yaml says how).
OPERATOR_SECRETS = {"nuanxin-rabbitmq-default-user"}
OWN_SECRETS = {"nuanxin-secrets", "nuanxin-pg-app", "nuanxin-tls"}
RESOURCES = manifests()


def of_kind(kind: str) -> dict[str, dict]:
    return {r["metadata"]["name"]: r for r in RESOURCES if r["kind"] == kind}


def container(deployment: dict) -> dict:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(workload: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container(workload)["env"]}


def expand(env: dict[str, dict], name: str) -> str:
    """An env value with its $(VAR) references to other variables replaced by their names' placeholders."""
    return re.sub(r"\$\((\w+)\)", lambda m: m.group(1).lower(), env[name]["value"])


def schema_for(resource: dict) -> dict:
    file_name, _ = SOURCES[(resource["apiVersion"], resource["kind"])]
    return json.loads((SCHEMAS / file_name).read_text())


@pytest.mark.parametrize("resource", [r for r in RESOURCES if (r["apiVersion"], r["kind"]) not in SOURCES],
                         ids=lambda r: f"{r['kind']}/{r['metadata']['name']}")
def test_built_in_kinds_match_the_kubernetes_schemas(resource):
    kubernetes_validate.validate(resource, KUBERNETES, strict=True)


@pytest.mark.parametrize("resource", [r for r in RESOURCES if (r["apiVersion"], r["kind"]) in SOURCES],
                         ids=lambda r: f"{r['kind']}/{r['metadata']['name']}")
def test_custom_resources_match_their_crds(resource):
    schema = schema_for(resource)
    assert "trimmed to the fields deploy/k8s uses from github.com/" in schema["$comment"]
    jsonschema.Draft7Validator.check_schema(schema)
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
              for e in jsonschema.Draft7Validator(schema).iter_errors(resource)]
    assert errors == []


def test_the_crd_schemas_refuse_what_the_crds_would():
    cluster = copy.deepcopy(of_kind("RabbitmqCluster")["nuanxin-rabbitmq"])
    cluster["spec"]["replica"] = 3  # a misspelt field
    assert not jsonschema.Draft7Validator(schema_for(cluster)).is_valid(cluster)
    pooler = copy.deepcopy(of_kind("Pooler")["nuanxin-pg-pooler-rw"])
    pooler["spec"]["pgbouncer"]["poolMode"] = "statement"  # not offered by CloudNativePG
    assert not jsonschema.Draft7Validator(schema_for(pooler)).is_valid(pooler)
    cluster = copy.deepcopy(of_kind("Cluster")["nuanxin-pg"])
    cluster["spec"]["instances"] = "three"
    assert not jsonschema.Draft7Validator(schema_for(cluster)).is_valid(cluster)


def test_the_kubernetes_schemas_refuse_an_unknown_field():
    deployment = copy.deepcopy(of_kind("Deployment")["bookings"])
    container(deployment)["readinesProbe"] = container(deployment).pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES, strict=True)


def test_the_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    files = {p.name for p in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(kustomization["resources"]) == sorted(files)
    assert [image["name"] for image in kustomization["images"]] == ["nuanxin"]
    assert {r["metadata"]["namespace"] for r in RESOURCES if "namespace" in r["metadata"]} <= {"nuanxin"}


def test_secrets_are_referenced_never_committed():
    assert not of_kind("Secret")
    text = "\n".join(p.read_text() for p in MANIFESTS.glob("*.yaml"))
    named = set(re.findall(r"secretKeyRef: \{name: ([\w-]+)", text))
    named |= {r["spec"]["bootstrap"]["initdb"]["secret"]["name"] for r in of_kind("Cluster").values()}
    named |= {tls["secretName"] for r in of_kind("Ingress").values() for tls in r["spec"]["tls"]}
    assert named == OPERATOR_SECRETS | OWN_SECRETS
    kustomization = (MANIFESTS / "kustomization.yaml").read_text()
    assert all(f"create secret generic {name}" in kustomization or f"create secret tls {name}" in kustomization
               for name in OWN_SECRETS)
    for workload in (*of_kind("Deployment").values(), *of_kind("Job").values()):
        for name, entry in env_of(workload).items():
            if re.search(r"PASSWORD|SECRET", name):
                assert "valueFrom" in entry, f"{workload['metadata']['name']}: {name} is written in the manifest"


def test_every_process_runs_replicas_with_probes_and_requests():
    deployments = of_kind("Deployment")
    assert set(deployments) == set(config.SERVICES)
    budgets = {r["metadata"]["name"]: r for r in of_kind("PodDisruptionBudget").values()}
    for name, deployment in deployments.items():
        spec = deployment["spec"]
        assert spec["replicas"] >= 2, name
        assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
        box = container(deployment)
        assert box["readinessProbe"] and box["livenessProbe"], name
        assert {"cpu", "memory"} <= set(box["resources"]["requests"]), name
        assert "memory" in box["resources"]["limits"], name
        assert box["image"] == "nuanxin"
        assert budgets[name]["spec"]["selector"] == spec["selector"]
        assert budgets[name]["spec"]["minAvailable"] < spec["replicas"], f"{name} could never be drained"


def test_commands_and_health_checks_name_code_that_exists():
    deployments = of_kind("Deployment")
    for name in config.BACKENDS:
        box = container(deployments[name])
        command = box["command"]
        assert command[:2] == ["nameko", "run"] and (ROOT / command[command.index("--config") + 1]).is_file()
        module, cls = command[-1].split(":")
        assert getattr(importlib.import_module(module), cls).name == name
        for probe in ("readinessProbe", "livenessProbe"):
            check = box[probe]["exec"]["command"]
            assert check[check.index("-m") + 1:] == ["services.healthcheck", name]
            importlib.import_module("services.healthcheck")
    gateway = container(deployments["gateway"])
    assert gateway["command"][-1] == "services.gateway.wsgi:app"
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert '@blp.get("/healthz")' in (ROOT / "services" / "gateway" / "api" / "health.py").read_text()
    migrate = container(of_kind("Job")["nuanxin-migrate"])
    assert migrate["command"] == ["nuanxin", "migrate"]


def test_every_process_is_given_the_three_broker_nodes():
    cluster = of_kind("RabbitmqCluster")["nuanxin-rabbitmq"]
    assert cluster["spec"]["replicas"] == 3
    assert "pause_minority" in cluster["spec"]["rabbitmq"]["additionalConfig"]
    nodes = [f"nuanxin-rabbitmq-server-{i}.nuanxin-rabbitmq-nodes" for i in range(3)]
    for workload in (*of_kind("Deployment").values(), *of_kind("Job").values()):
        env = env_of(workload)
        uris = expand(env, "AMQP_URI").split(";")
        assert [urlsplit(uri).hostname for uri in uris] == nodes, workload["metadata"]["name"]
        assert all(urlsplit(uri).username == "rabbitmq_user" and urlsplit(uri).port == 5672 for uri in uris)
        assert env["RABBITMQ_USER"]["valueFrom"]["secretKeyRef"]["name"] == "nuanxin-rabbitmq-default-user"
        names = [e["name"] for e in container(workload)["env"]]
        # Kubernetes expands $(VAR) only from variables defined before it.
        assert names.index("RABBITMQ_PASSWORD") < names.index("AMQP_URI")


def test_postgresql_is_a_primary_with_replicas_behind_pgbouncer_in_transaction_mode():
    cluster = of_kind("Cluster")["nuanxin-pg"]
    assert cluster["spec"]["instances"] >= 3  # a primary and two replicas
    assert cluster["spec"]["postgresql"]["synchronous"]["number"] >= 1
    initdb = cluster["spec"]["bootstrap"]["initdb"]
    created = {initdb["database"], *(re.match(r"CREATE DATABASE (\w+) OWNER", sql).group(1)
                                     for sql in initdb["postInitSQL"])}
    assert created == {f"nuanxin_{s}" for s in config.SERVICES}
    pooler = of_kind("Pooler")["nuanxin-pg-pooler-rw"]
    assert pooler["spec"]["cluster"]["name"] == "nuanxin-pg"
    assert pooler["spec"]["type"] == "rw" and pooler["spec"]["instances"] >= 2
    assert pooler["spec"]["pgbouncer"]["poolMode"] == "transaction"
    parameters = pooler["spec"]["pgbouncer"]["parameters"]
    server_connections = (pooler["spec"]["instances"] * len(config.SERVICES)
                          * (int(parameters["default_pool_size"]) + int(parameters["reserve_pool_size"])))
    assert server_connections < int(cluster["spec"]["postgresql"]["parameters"]["max_connections"])
    deployments = of_kind("Deployment")
    for name, deployment in deployments.items():
        urls = {k: expand(env_of(deployment), k) for k in env_of(deployment) if k.endswith("_DATABASE_URL")}
        assert list(urls) == [f"{name.upper()}_DATABASE_URL"], f"{name} is given another service's database"
        url = urlsplit(urls[f"{name.upper()}_DATABASE_URL"])
        assert (url.hostname, url.port, url.path) == ("nuanxin-pg-pooler-rw", 5432, f"/nuanxin_{name}")
    migrate = env_of(of_kind("Job")["nuanxin-migrate"])
    for service in config.SERVICES:
        url = urlsplit(expand(migrate, f"{service.upper()}_DATABASE_URL"))
        assert (url.hostname, url.path) == ("nuanxin-pg-rw", f"/nuanxin_{service}")


def test_the_gateway_and_web_app_are_behind_a_service_and_an_ingress():
    gateway = of_kind("Deployment")["gateway"]
    service = of_kind("Service")["gateway"]
    assert service["spec"]["selector"].items() <= gateway["spec"]["template"]["metadata"]["labels"].items()
    ports = {p["name"]: p["containerPort"] for p in container(gateway)["ports"]}
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"] and ports["http"] == 8000
    assert f"0.0.0.0:{ports['http']}" in container(gateway)["command"]
    ingress = of_kind("Ingress")["nuanxin"]
    [rule] = ingress["spec"]["rules"]
    [path] = rule["http"]["paths"]
    assert path["path"] == "/" and path["backend"]["service"] == {"name": "gateway", "port": {"name": "http"}}
    assert rule["host"] in ingress["spec"]["tls"][0]["hosts"]
    assert env_of(gateway)["NUANXIN_PROXY_HOPS"]["value"] == "1"
    autoscaler = of_kind("HorizontalPodAutoscaler")["gateway"]
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == "gateway"
    assert autoscaler["spec"]["minReplicas"] == gateway["spec"]["replicas"]
