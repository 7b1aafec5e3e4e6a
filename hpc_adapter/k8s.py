"""Kubernetes manifests that add a verified provider's node to a SLURM cluster: Slinky NodeSet CR or slurmd StatefulSet.

Pod templates are built with the kubernetes client's models and serialized by its
ApiClient; the NodeSet custom resource (``slinky.slurm.net/v1beta1``, which the Python
client has no model for) wraps such a template. :func:`validate_manifests` checks them
offline (names, quantities, required fields, round-trip through the models);
:func:`apply_manifests` creates or replaces them when a kubeconfig is present.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpc_adapter.chain import Role, RoleReader, ScoreReader
from hpc_adapter.rewards import KubernetesConfig
from veid.errors import AdapterError, InputError

NODESET_GROUP, NODESET_VERSION, NODESET_PLURAL = "slinky.slurm.net", "v1beta1", "nodesets"
_DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
LABEL_PROVIDER = "veid.io/provider"
ANNOTATION_ADDRESS = "veid.io/provider-address"


@dataclass(frozen=True)
class ProviderNode:
    """A provider's compute node to add: its chain address and a short node-set name."""

    address: str
    name: str


def provider_label(address: str) -> str:
    """A label-safe, stable id for a chain address (first 16 hex of SHA-256)."""
    return hashlib.sha256(address.encode()).hexdigest()[:16]


def check_provider(address: str, scores: ScoreReader, roles: RoleReader, min_score: int) -> None:
    """Refuse providers that are not verified: service-provider role and score >= ``min_score``.

    Raises:
        InputError: the provider is not verified (with the reason).
        ChainError: the chain could not be asked.
    """
    if Role.SERVICE_PROVIDER not in roles.roles(address).roles:
        raise InputError(f"{address} is not a service provider on chain")
    score = scores.score(address)
    if score is None or score.value < min_score:
        raise InputError(f"{address} score {None if score is None else score.value} below {min_score}")


def _pod_template(node: ProviderNode, cfg: KubernetesConfig, args: list[str]) -> Any:
    from kubernetes import client as k

    labels = {"app.kubernetes.io/name": "slurmd", "app.kubernetes.io/instance": node.name,
              LABEL_PROVIDER: provider_label(node.address)}  # fmt: skip
    resources = k.V1ResourceRequirements(
        requests={"cpu": str(cfg.cpus), "memory": f"{cfg.memory_mib}Mi"},
        limits={"cpu": str(cfg.cpus), "memory": f"{cfg.memory_mib}Mi"},
    )
    container = k.V1Container(
        name="slurmd", image=cfg.image, args=args, resources=resources,
        ports=[k.V1ContainerPort(name="slurmd", container_port=6818)],
        security_context=k.V1SecurityContext(capabilities=k.V1Capabilities(add=["SYS_ADMIN", "SYS_NICE"])),
    )  # fmt: skip
    return k.V1PodTemplateSpec(
        metadata=k.V1ObjectMeta(labels=labels, annotations={ANNOTATION_ADDRESS: node.address}),
        spec=k.V1PodSpec(containers=[container], hostname=node.name, automount_service_account_token=False),
    )


def _features(node: ProviderNode, cfg: KubernetesConfig) -> str:
    return f"veid-verified,veid-{provider_label(node.address)}"


def build_manifests(node: ProviderNode, cfg: KubernetesConfig) -> list[dict[str, Any]]:
    """The objects to create for ``node``: a NodeSet CR, or a headless Service plus a StatefulSet.

    Raises:
        InputError: the node name is not a DNS-1123 label or the kind is unknown.
    """
    from kubernetes import client as k

    if not _DNS1123.match(node.name):
        raise InputError(f"node name {node.name!r} is not a DNS-1123 label")
    api = k.ApiClient()
    meta = k.V1ObjectMeta(name=node.name, namespace=cfg.namespace,
                          labels={LABEL_PROVIDER: provider_label(node.address)},
                          annotations={ANNOTATION_ADDRESS: node.address})  # fmt: skip
    if cfg.kind == "NodeSet":
        template = _pod_template(node, cfg, [])
        return [{
            "apiVersion": f"{NODESET_GROUP}/{NODESET_VERSION}",
            "kind": "NodeSet",
            "metadata": api.sanitize_for_serialization(meta),
            "spec": {
                "controllerRef": {"name": cfg.controller, "namespace": cfg.namespace},
                "replicas": 1,
                "slurmd": {
                    "image": cfg.image,
                    "resources": api.sanitize_for_serialization(template.spec.containers[0].resources),
                },
                "extraConf": f"Features={_features(node, cfg)}",
                "partition": {"enabled": True, "config": f"State=UP MaxTime=INFINITE PartitionName={cfg.partition}"},
                "template": {"metadata": api.sanitize_for_serialization(template.metadata)},
            },
        }]  # fmt: skip
    if cfg.kind == "StatefulSet":
        conf = f"CPUs={cfg.cpus} RealMemory={cfg.memory_mib} Features={_features(node, cfg)}"
        template = _pod_template(node, cfg, ["-D", "-Z", "--conf-server", f"{cfg.controller}:6817", "--conf", conf])
        service = k.V1Service(
            api_version="v1", kind="Service", metadata=meta,
            spec=k.V1ServiceSpec(cluster_ip="None", selector=template.metadata.labels,
                                 ports=[k.V1ServicePort(name="slurmd", port=6818)]),
        )  # fmt: skip
        sts = k.V1StatefulSet(
            api_version="apps/v1", kind="StatefulSet", metadata=meta,
            spec=k.V1StatefulSetSpec(
                replicas=1, service_name=node.name, template=template,
                selector=k.V1LabelSelector(match_labels=template.metadata.labels),
            ),
        )  # fmt: skip
        return [api.sanitize_for_serialization(service), api.sanitize_for_serialization(sts)]
    raise InputError(f"hpc.kubernetes.kind must be NodeSet or StatefulSet, got {cfg.kind!r}")


def validate_manifests(objects: Sequence[dict[str, Any]]) -> list[str]:
    """Offline checks; returns the problems found (empty: valid).

    Core objects are deserialized into the client's models (which enforce required fields);
    every name must be DNS-1123 and every resource quantity must parse.
    """
    from kubernetes import client as k
    from kubernetes.utils import parse_quantity

    problems: list[str] = []
    for i, obj in enumerate(objects):
        where = f"{obj.get('kind', '?')}[{i}]"
        name = (obj.get("metadata") or {}).get("name", "")
        if not _DNS1123.match(str(name)):
            problems.append(f"{where}: metadata.name {name!r} is not a DNS-1123 label")
        kind = obj.get("kind")
        try:
            if kind == "StatefulSet":
                model = k.ApiClient()._ApiClient__deserialize(obj, "V1StatefulSet")
                containers = model.spec.template.spec.containers
                selector = model.spec.selector.match_labels or {}
                labels = model.spec.template.metadata.labels or {}
                if any(labels.get(key) != value for key, value in selector.items()):
                    problems.append(f"{where}: selector does not match the pod template labels")
            elif kind == "Service":
                k.ApiClient()._ApiClient__deserialize(obj, "V1Service")
                containers = []
            elif kind == "NodeSet":
                spec = obj["spec"]
                if obj.get("apiVersion") != f"{NODESET_GROUP}/{NODESET_VERSION}":
                    problems.append(f"{where}: apiVersion must be {NODESET_GROUP}/{NODESET_VERSION}")
                if not spec["controllerRef"]["name"]:
                    problems.append(f"{where}: spec.controllerRef.name is empty")
                if not isinstance(spec["replicas"], int) or spec["replicas"] < 0:
                    problems.append(f"{where}: spec.replicas must be a non-negative integer")
                if not spec["slurmd"]["image"]:
                    problems.append(f"{where}: spec.slurmd.image is empty")
                containers = [k.ApiClient()._ApiClient__deserialize(
                    {"name": "slurmd", "image": spec["slurmd"]["image"], "resources": spec["slurmd"].get("resources")},
                    "V1Container")]  # fmt: skip
            else:
                problems.append(f"{where}: unexpected kind {kind!r}")
                continue
            for container in containers:
                for bucket in (container.resources.requests or {}, container.resources.limits or {}):
                    for key, value in bucket.items():
                        parse_quantity(value)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            problems.append(f"{where}: {type(exc).__name__}: {exc}")
    return problems


def kubeconfig_path() -> Path | None:
    """The kubeconfig in use (``$KUBECONFIG`` or ``~/.kube/config``), or None when there is none."""
    path = Path(os.environ.get("KUBECONFIG") or Path.home() / ".kube" / "config")
    return path if path.is_file() else None


def apply_manifests(objects: Sequence[dict[str, Any]], kubeconfig: Path) -> list[str]:
    """Create (or replace when present) each object in the cluster of ``kubeconfig``; returns what was done.

    Raises:
        AdapterError: the kubeconfig cannot be loaded or the API server refused an object.
    """
    from kubernetes import client as k
    from kubernetes import config
    from kubernetes.client.rest import ApiException
    from kubernetes.config.config_exception import ConfigException
    from urllib3.exceptions import HTTPError as Urllib3Error

    try:
        api_client = config.new_client_from_config(config_file=str(kubeconfig))
    except (ConfigException, OSError) as exc:
        raise AdapterError(f"cannot load kubeconfig {kubeconfig}: {exc}") from exc
    done = []
    for obj in objects:
        ns, name, kind = obj["metadata"]["namespace"], obj["metadata"]["name"], obj["kind"]
        try:
            if kind == "NodeSet":
                api = k.CustomObjectsApi(api_client)
                args = (NODESET_GROUP, NODESET_VERSION, ns, NODESET_PLURAL)
                try:
                    api.create_namespaced_custom_object(*args, obj)
                    done.append(f"created NodeSet {ns}/{name}")
                except ApiException as exc:
                    if exc.status != 409:
                        raise
                    api.patch_namespaced_custom_object(*args, name, obj)
                    done.append(f"patched NodeSet {ns}/{name}")
            elif kind == "StatefulSet":
                api = k.AppsV1Api(api_client)
                try:
                    api.create_namespaced_stateful_set(ns, obj)
                    done.append(f"created StatefulSet {ns}/{name}")
                except ApiException as exc:
                    if exc.status != 409:
                        raise
                    api.patch_namespaced_stateful_set(name, ns, obj)
                    done.append(f"patched StatefulSet {ns}/{name}")
            elif kind == "Service":
                try:
                    k.CoreV1Api(api_client).create_namespaced_service(ns, obj)
                    done.append(f"created Service {ns}/{name}")
                except ApiException as exc:
                    if exc.status != 409:
                        raise
                    done.append(f"kept Service {ns}/{name}")
        except ApiException as exc:
            raise AdapterError(f"Kubernetes refused {kind} {ns}/{name}: HTTP {exc.status} {exc.reason}") from exc
        except (OSError, Urllib3Error) as exc:
            raise AdapterError(f"Kubernetes API unreachable: {exc}") from exc
    return done
