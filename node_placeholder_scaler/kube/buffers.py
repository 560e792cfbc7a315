"""CapacityBuffer calls of kube.Kube (a mixin: it uses Kube's ``_call``, meter and timeout).

The custom resource has no ``/scale`` subresource upstream yet, so the replicas are set with a
JSON merge patch on ``spec.replicas``. RBAC needed: capacitybuffers get and patch (by
resourceNames); events create. A 404 is told apart: the CRD not served (discovery of
autoscaling.x-k8s.io/v1beta1 answers 404) or the object missing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kubernetes import client

from ..backends.capacitybuffers import (
    API_VERSION,
    GROUP,
    KIND,
    NOT_SERVED,
    PLURAL,
    VERSION,
    CapacityBuffer,
    parse_buffer,
)
from ..observed import ClusterError
from .objects import event_about

MERGE_PATCH = "application/merge-patch+json"


class BufferCalls:
    """Read, patch and report on CapacityBuffers (mixed into kube.Kube)."""

    core: client.CoreV1Api

    def _init_buffers(self, api_client: Any) -> None:
        self.custom = client.CustomObjectsApi(api_client)
        self._warned: dict[tuple[str, str], str] = {}
        self._warned_lock = threading.Lock()

    def _call(self, action: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError  # kube.Kube's

    def buffer_api_served(self) -> bool:
        """Whether the API server serves autoscaling.x-k8s.io/v1beta1 (the CRD is installed)."""
        try:
            self._call(f"discover {API_VERSION}", self.custom.get_api_resources, GROUP, VERSION)
        except ClusterError as error:
            if error.status == 404:
                return False
            raise
        return True

    def read_buffer(self, namespace: str, name: str) -> CapacityBuffer:
        action = f"get capacitybuffer {namespace}/{name}"
        try:
            body = self._call(
                action,
                self.custom.get_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                PLURAL,
                name,
            )
        except ClusterError as error:
            if error.status == 404 and not self.buffer_api_served():
                raise ClusterError(action, 404, NOT_SERVED) from None
            raise
        try:
            return parse_buffer(body)
        except ValueError as error:
            raise ClusterError(action, None, f"unreadable {KIND}: {error}") from None

    def scale_buffer(self, namespace: str, name: str, replicas: int) -> None:
        self._call(
            f"patch capacitybuffer {namespace}/{name}",
            self.custom.patch_namespaced_custom_object,
            GROUP,
            VERSION,
            namespace,
            PLURAL,
            name,
            {"spec": {"replicas": replicas}},
            _content_type=MERGE_PATCH,
        )

    def record_buffer_event(
        self,
        buffer: CapacityBuffer,
        reason: str,
        message: str,
        now: datetime,
        *,
        warning: bool = False,
    ) -> None:
        """Create a core/v1 Event on the CapacityBuffer. A Warning is created once per new text
        (not every round while a buffer stays broken); clear_buffer_warning forgets it."""
        key = (buffer.namespace, buffer.name)
        if warning:
            with self._warned_lock:
                if self._warned.get(key) == message:
                    return
        body = buffer_event(buffer, reason, message, now, warning=warning)
        self._call("create event", self.core.create_namespaced_event, buffer.namespace, body)
        if warning:
            with self._warned_lock:
                self._warned[key] = message

    def clear_buffer_warning(self, buffer: CapacityBuffer) -> None:
        with self._warned_lock:
            self._warned.pop((buffer.namespace, buffer.name), None)


def buffer_event(
    buffer: CapacityBuffer, reason: str, message: str, now: datetime, *, warning: bool = False
) -> dict[str, Any]:
    """A core/v1 Event about a CapacityBuffer."""
    involved = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": buffer.name,
        "namespace": buffer.namespace,
        "uid": buffer.uid,
    }
    return event_about(involved, reason, message, now, warning=warning)
