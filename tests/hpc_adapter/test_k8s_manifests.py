"""Kubernetes manifests for a verified provider's node: built with the client's models, validated offline, applied to a local API."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from hpc_adapter.chain import InMemoryChain, Role
from hpc_adapter.k8s import (
    ProviderNode,
    apply_manifests,
    build_manifests,
    check_provider,
    provider_label,
    validate_manifests,
)
from hpc_adapter.rewards import KubernetesConfig
from veid.errors import AdapterError, InputError

ADDR = "virtengine1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5z5tpwxqer"
NODE = ProviderNode(ADDR, "gpu-provider-7")


def test_nodeset_manifest_is_valid_and_carries_the_provider():
    (nodeset,) = build_manifests(NODE, KubernetesConfig(cpus=8, memory_mib=16384))
    assert validate_manifests([nodeset]) == []
    assert nodeset["apiVersion"] == "slinky.slurm.net/v1beta1" and nodeset["kind"] == "NodeSet"
    assert nodeset["spec"]["controllerRef"] == {"name": "slurm", "namespace": "slurm"}
    assert nodeset["spec"]["slurmd"]["resources"]["requests"] == {"cpu": "8", "memory": "16384Mi"}
    assert nodeset["metadata"]["annotations"]["veid.io/provider-address"] == ADDR
    assert f"veid-{provider_label(ADDR)}" in nodeset["spec"]["extraConf"]
    yaml.safe_load(yaml.safe_dump(nodeset))  # serializable as a manifest file


def test_statefulset_manifest_is_valid():
    service, sts = build_manifests(NODE, KubernetesConfig(kind="StatefulSet", controller="slurmctld.slurm"))
    assert validate_manifests([service, sts]) == []
    args = sts["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:4] == ["-D", "-Z", "--conf-server", "slurmctld.slurm:6817"]
    assert sts["spec"]["selector"]["matchLabels"] == sts["spec"]["template"]["metadata"]["labels"]


def test_validation_finds_broken_manifests():
    (nodeset,) = build_manifests(NODE, KubernetesConfig())
    nodeset["spec"]["slurmd"]["resources"]["limits"]["memory"] = "lots"
    nodeset["metadata"]["name"] = "Bad_Name"
    problems = validate_manifests([nodeset])
    assert any("DNS-1123" in p for p in problems) and any("lots" in p or "ValueError" in p for p in problems)
    service, sts = build_manifests(NODE, KubernetesConfig(kind="StatefulSet"))
    sts["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] = "other"
    assert validate_manifests([sts]) == ["StatefulSet[0]: selector does not match the pod template labels"]
    with pytest.raises(InputError):
        build_manifests(ProviderNode(ADDR, "UPPER"), KubernetesConfig())


def test_only_verified_providers():
    chain = InMemoryChain()
    with pytest.raises(InputError, match="not a service provider"):
        check_provider(ADDR, chain, chain, 70)
    chain.set_roles(ADDR, {Role.SERVICE_PROVIDER})
    chain.set_score(ADDR, 60)
    with pytest.raises(InputError, match="below 70"):
        check_provider(ADDR, chain, chain, 70)
    chain.set_score(ADDR, 71)
    check_provider(ADDR, chain, chain, 70)


class _FakeApiServer:
    """Answers the two NodeSet calls the client makes: POST (201, then 409) and PATCH (200)."""

    def __init__(self):
        self.calls = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                outer.calls.append((self.command, self.path, body.get("kind")))
                if self.command == "POST" and sum(c[0] == "POST" for c in outer.calls) > 1:
                    return self._reply(409, {"kind": "Status", "reason": "AlreadyExists", "code": 409})
                self._reply(201 if self.command == "POST" else 200, body)

            do_POST = do_PATCH = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


def test_apply_creates_then_patches_through_kubeconfig(tmp_path):
    api = _FakeApiServer()
    kubeconfig = _kubeconfig(tmp_path, api.server.server_address[1])
    objects = build_manifests(NODE, KubernetesConfig())
    assert apply_manifests(objects, kubeconfig) == ["created NodeSet slurm/gpu-provider-7"]
    assert apply_manifests(objects, kubeconfig) == ["patched NodeSet slurm/gpu-provider-7"]
    assert api.calls[0] == ("POST", "/apis/slinky.slurm.net/v1beta1/namespaces/slurm/nodesets", "NodeSet")
    assert api.calls[-1][:2] == ("PATCH", "/apis/slinky.slurm.net/v1beta1/namespaces/slurm/nodesets/gpu-provider-7")
    api.server.shutdown()
    with pytest.raises(AdapterError):
        apply_manifests(objects, tmp_path / "missing")


def _kubeconfig(tmp_path, port):
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "t",
        "clusters": [{"name": "t", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
        "users": [{"name": "t", "user": {"token": "abc"}}],
        "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}],
    }))  # fmt: skip
    return path


def test_node_manifests_cli_checks_the_chain_then_applies(local_chain, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from attest.keys import AccountKey
    from hpc_adapter.cli import hpc

    provider = AccountKey.generate().address
    api = _FakeApiServer()
    monkeypatch.setenv("KUBECONFIG", str(_kubeconfig(tmp_path, api.server.server_address[1])))
    args = ["node-manifests", provider, "--name", "prov-1", "--chain-home", str(local_chain.home),
            "--grpc", local_chain.address, "--out", str(tmp_path / "node.yaml")]  # fmt: skip
    refused = CliRunner().invoke(hpc, args)
    assert isinstance(refused.exception, InputError) and "not a service provider" in str(refused.exception)
    assert api.calls == []
    local_chain.grant(provider, Role.SERVICE_PROVIDER)
    local_chain.set_score(provider, 88)
    done = CliRunner().invoke(hpc, args, catch_exceptions=False)
    assert "created NodeSet slurm/prov-1" in done.output
    (nodeset,) = list(yaml.safe_load_all((tmp_path / "node.yaml").read_text()))
    assert nodeset["metadata"]["annotations"]["veid.io/provider-address"] == provider
    assert validate_manifests([nodeset]) == []
    api.server.shutdown()
