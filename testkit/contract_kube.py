"""The real target of the contract tests: kube.Kube, KubeLeases and ReportStore on the test
cluster, every request through a recording proxy (testkit/apiproxy.py); faults injected by the
proxy (a status, a body that is not JSON), by missing objects and stale versions, and by an
RBAC-limited ServiceAccount (``forbid``). See testkit/contract.py for the fake twin."""

from __future__ import annotations

import json
import re

from kubernetes import client

from node_placeholder_scaler.backends.capacitybuffers import GROUP, PLURAL, VERSION
from node_placeholder_scaler.kube import Kube
from node_placeholder_scaler.kube.leases import KubeLeases
from node_placeholder_scaler.kube.reports import ReportStore
from testkit.apiproxy import ApiProxy
from testkit.cluster import node_ready, node_taint_keys, service_account_client, wait_for
from testkit.contract import (
    CPU,
    LEASE,
    MEMORY,
    NAME,
    NS,
    PATHS,
    PERMISSIONS,
    buffer_body,
    classify,
)
from testkit.manifests import node_manifest, pod_manifest

TIMEOUT = 10.0
ACCOUNT = "contract"


class KubeTarget:
    """The real adapter on the test cluster, in the test's namespace."""

    def __init__(self, admin: client.ApiClient, namespace: str, proxy: ApiProxy) -> None:
        self.admin, self.namespace, self.proxy = admin, namespace, proxy
        self.core, self.apps = client.CoreV1Api(admin), client.AppsV1Api(admin)
        self.custom = client.CustomObjectsApi(admin)
        self.nodes: list[str] = []
        self._use(proxy.client())
        self.recorded = True

    def _use(self, api: client.ApiClient) -> None:
        self.cluster = Kube(api, timeout=TIMEOUT, workers=4)
        self.lease = KubeLeases(api, self.namespace, LEASE, timeout=TIMEOUT)
        self.reports = ReportStore(client.CoreV1Api(api), self.namespace, timeout=TIMEOUT)

    # -- the world ---------------------------------------------------------------------
    def deployment(self, name: str, replicas: int) -> None:
        """A Deployment whose pods never schedule (their node selector matches nothing)."""
        template = pod_manifest(
            name,
            cpu=CPU,
            memory=MEMORY,
            labels={"app": name},
            node_selector={"nps.testcluster/contract": "nowhere"},
        )
        body = {
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": template["metadata"], "spec": template["spec"]},
            },
        }
        self.apps.create_namespaced_deployment(self.namespace, body)

    def node(self, name: str, labels: dict[str, str]) -> None:
        """A kwok node, Ready and untainted before this returns."""
        self.core.create_node(node_manifest(name, labels=labels))
        self.nodes.append(name)
        wait_for(
            f"node {name} ready",
            lambda: (
                node_ready(self.core.read_node(name))
                and not node_taint_keys(self.core.read_node(name))
            ),
            60,
        )

    def events(self) -> list[tuple[str, str, str, str]]:
        """(object, reason, message, type) of the Events in the namespace, sorted (their
        timestamps are whole seconds: they do not order them)."""
        found = self.core.list_namespaced_event(self.namespace).items
        return sorted(
            (str(e.involved_object.name), str(e.reason), str(e.message), str(e.type)) for e in found
        )

    def cache_pods(self) -> None:
        """Serve pods_on_nodes from the watch-fed pod cache (the run loop's), once in sync."""
        cache = self.cluster.start_pod_cache()
        wait_for("the pod cache in sync", lambda: cache.pods_on([]) is not None, 60)

    def bound_pod(self, name: str, node_name: str) -> None:
        self.core.create_namespaced_pod(self.namespace, pod_manifest(name, node_name=node_name))

    def buffer(self, name: str, replicas: int) -> None:
        self.custom.create_namespaced_custom_object(
            GROUP,
            VERSION,
            self.namespace,
            PLURAL,
            buffer_body(self.namespace, name, replicas, name),
        )

    def close(self) -> None:
        self.cluster.stop_pod_cache()
        for name in self.nodes:
            self.core.delete_node(name)

    # -- faults -------------------------------------------------------------------------
    def fail(self, request: str, key: str, status: int, body: bytes) -> None:
        method, pattern = PATHS[request]
        namespace, _, name = key.rpartition("/")
        path = pattern.replace(NS, re.escape(namespace)).replace(NAME, re.escape(name))
        if request == "list placeholder pods":
            path += rf"\?.*labelSelector=app%3D{re.escape(name)}(&.*)?"
        elif request == "list pods on node":
            path += rf"\?.*spec.nodeName%3D{re.escape(key)}%2C.*"
        elif request == "list nodes":
            path += r"(\?.*)?"
        self.proxy.answer(method, path, status, body)

    def conflict_reports(self, times: int) -> None:
        path = f"/api/v1/namespaces/{self.namespace}/configmaps/[^/?]+"
        self.proxy.answer(
            "PUT",
            path,
            409,
            json.dumps(
                {
                    "kind": "Status",
                    "status": "Failure",
                    "reason": "Conflict",
                    "code": 409,
                    "message": "the object has been modified",
                }
            ).encode(),
            times=times,
        )

    def garble_reports(self) -> None:
        self.proxy.answer(
            "GET",
            f"/api/v1/namespaces/{self.namespace}/configmaps/[^/?]+(\\?.*)?",
            200,
            b"<html>not an API server</html>",
        )

    def forbid(self, *requests: str) -> None:
        """From now on the adapter runs as a ServiceAccount that may do everything it needs
        but ``requests`` (no proxy: requests are not recorded)."""
        allowed = [p for r, p in PERMISSIONS.items() if r not in requests]
        rules = [
            {"apiGroups": [group], "resources": [resource], "verbs": [verb]}
            for group, resource, verb in allowed
        ]
        self.core.create_namespaced_service_account(self.namespace, {"metadata": {"name": ACCOUNT}})
        rbac = client.RbacAuthorizationV1Api(self.admin)
        rbac.create_namespaced_role(self.namespace, {"metadata": {"name": ACCOUNT}, "rules": rules})
        rbac.create_namespaced_role_binding(
            self.namespace,
            {
                "metadata": {"name": ACCOUNT},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Role",
                    "name": ACCOUNT,
                },
                "subjects": [
                    {"kind": "ServiceAccount", "name": ACCOUNT, "namespace": self.namespace}
                ],
            },
        )
        api = service_account_client(self.admin, self.namespace, ACCOUNT)
        group, resource, verb = allowed[0]
        resource, _, subresource = resource.partition("/")
        review = {
            "spec": {
                "resourceAttributes": {
                    "group": group,
                    "resource": resource,
                    "subresource": subresource,
                    "verb": verb,
                    "namespace": self.namespace,
                }
            }
        }
        auth = client.AuthorizationV1Api(api)
        wait_for(
            "the Role to take effect",
            lambda: auth.create_self_subject_access_review(review).status.allowed,
            30,
        )
        self._use(api)
        self.recorded = False

    # -- what was asked -------------------------------------------------------------------
    def requests(self) -> list[tuple[str, str]]:
        assert self.recorded, "requests are recorded through the proxy only"
        found = [
            classify(r)
            for r in self.proxy.requests()
            if "/leases" not in r.path and "/configmaps" not in r.path
        ]
        return [r for r in found if r[0] != "pod cache"]

    def lease_requests(self) -> int:
        return sum("/leases" in r.path for r in self.proxy.requests())

    def report_requests(self) -> list[tuple[str, str]]:
        verbs = {"GET": "get", "POST": "create", "PUT": "update"}
        found = []
        for r in self.proxy.requests():
            if "/configmaps" not in r.path:
                continue
            name = (
                r.path.rpartition("/")[2]
                if r.method != "POST"
                else str(json.loads(r.body)["metadata"]["name"])
            )
            found.append((verbs[r.method], name))
        return found

    def reset(self) -> None:
        self.proxy.log.clear()
