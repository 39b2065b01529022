"""The schemas the operators' custom resources in deploy/k8s are checked against, trimmed from the operators'
own CustomResourceDefinitions.

No package on PyPI carries the RabbitMQ Cluster Operator's or CloudNativePG's CRDs, so tests/deploy/schemas/
keeps, for each kind deploy/k8s uses, the CRD's OpenAPI v3 schema cut down to the fields the manifests use:
their types, enums, patterns and required fields as the CRD states them, and `additionalProperties: false`
wherever the CRD lists its fields, so a field the CRD does not know is refused (as `kubectl apply` with strict
field validation does). Trimming fails on any field of a manifest that the CRD does not have.

After changing a custom resource in deploy/k8s, make the schemas again from the CRDs of the operators'
releases (each file names its source):

    .venv/bin/python -m tests.deploy.crd_schemas rabbitmq.com_rabbitmqclusters.yaml \\
        postgresql.cnpg.io_clusters.yaml postgresql.cnpg.io_poolers.yaml

with the CRD files from github.com/rabbitmq/cluster-operator and github.com/cloudnative-pg/cloudnative-pg
(config/crd/bases/ at the tags in SOURCES).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "k8s"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
# (apiVersion, kind) -> (schema file, where its CRD comes from)
SOURCES = {
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): (
        "rabbitmqcluster.json",
        "github.com/rabbitmq/cluster-operator v2.22.3, config/crd/bases/rabbitmq.com_rabbitmqclusters.yaml"),
    ("postgresql.cnpg.io/v1", "Cluster"): (
        "cnpg-cluster.json",
        "github.com/cloudnative-pg/cloudnative-pg v1.30.0, config/crd/bases/postgresql.cnpg.io_clusters.yaml"),
    ("postgresql.cnpg.io/v1", "Pooler"): (
        "cnpg-pooler.json",
        "github.com/cloudnative-pg/cloudnative-pg v1.30.0, config/crd/bases/postgresql.cnpg.io_poolers.yaml"),
}
KEPT = ("type", "enum", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "nullable",
        "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields")


def manifests() -> list[dict]:
    """Every resource in deploy/k8s (kustomization.yaml aside, which is kustomize's, not the API's)."""
    resources = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            resources += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return resources


def _merge(values: list) -> object:
    """One value standing for all items of a list: dicts merged key by key, lists concatenated."""
    dicts = [v for v in values if isinstance(v, dict)]
    if not dicts:
        return values[0] if values else None
    keys = {k for d in dicts for k in d}
    return {k: _merge([d[k] for d in dicts if k in d]) for k in keys}


def _bare(schema: dict) -> dict:
    """A schema without descriptions, at any depth."""
    if isinstance(schema, dict):
        return {k: _bare(v) for k, v in schema.items() if k != "description"}
    if isinstance(schema, list):
        return [_bare(v) for v in schema]
    return schema


def trim(schema: dict, value, where: str = "") -> dict:
    out = {k: schema[k] for k in KEPT if k in schema}
    if "anyOf" in schema:
        out["anyOf"] = _bare(schema["anyOf"])
    if schema.get("type") == "object" and isinstance(value, dict):
        properties = schema.get("properties")
        if properties is not None:
            unknown = sorted(set(value) - set(properties))
            if unknown:
                raise ValueError(f"{where or '.'}: the CRD has no field {', '.join(unknown)}")
            out["properties"] = {k: trim(properties[k], v, f"{where}.{k}") for k, v in sorted(value.items())}
            out["additionalProperties"] = False
            if schema.get("required"):
                out["required"] = schema["required"]
        elif isinstance(schema.get("additionalProperties"), dict):
            out["additionalProperties"] = trim(schema["additionalProperties"], _merge(list(value.values())),
                                               f"{where}.*")
    if schema.get("type") == "array" and isinstance(value, list) and "items" in schema:
        out["items"] = trim(schema["items"], _merge(value), f"{where}[]")
    return out


def crd_schema(crd: dict, api_version: str) -> dict:
    version = api_version.split("/")[1]
    for served in crd["spec"]["versions"]:
        if served["name"] == version:
            return served["schema"]["openAPIV3Schema"]
    raise ValueError(f"{crd['metadata']['name']} serves no {version}")


def main(crd_files: list[str]) -> None:
    crds = {}
    for name in crd_files:
        crd = yaml.safe_load(Path(name).read_text())
        crds[(crd["spec"]["group"], crd["spec"]["names"]["kind"])] = crd
    resources = manifests()
    for (api_version, kind), (file_name, source) in SOURCES.items():
        crd = crds[(api_version.split("/")[0], kind)]
        instances = [r for r in resources if (r["apiVersion"], r["kind"]) == (api_version, kind)]
        # metadata is the API's own (checked by the built-in schemas' ObjectMeta): kept open here.
        merged = _merge([{k: v for k, v in r.items() if k != "metadata"} for r in instances])
        schema = trim(crd_schema(crd, api_version), merged, kind)
        schema["properties"]["metadata"] = {"type": "object"}
        schema["additionalProperties"] = False
        schema = {"$schema": "http://json-schema.org/draft-07/schema#",
                  "$comment": f"{api_version} {kind}, trimmed to the fields deploy/k8s uses from {source} "
                              "(tests/deploy/crd_schemas.py)", **schema}
        (SCHEMAS / file_name).write_text(json.dumps(schema, indent=1, ensure_ascii=False, sort_keys=False) + "\n")
        print(f"{file_name}: {kind} from {source}")


if __name__ == "__main__":
    main(sys.argv[1:])
