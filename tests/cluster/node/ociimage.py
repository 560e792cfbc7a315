"""Pack one static executable into an OCI image archive that `ctr images import` loads.

    python3 ociimage.py EXECUTABLE NAME:TAG OUT.tar

The image has a single layer holding the executable at /<basename>, which is its entrypoint
(the test cluster's pause image: see pause.c). Standard library only; the archive is
reproducible (fixed mtimes, sorted entries).
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path


def _layer(executable: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(executable.name)
        data = executable.read_bytes()
        info.size, info.mode, info.mtime = len(data), 0o755, 0
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _descriptor(media_type: str, blob: bytes) -> dict[str, object]:
    return {
        "mediaType": media_type,
        "digest": "sha256:" + hashlib.sha256(blob).hexdigest(),
        "size": len(blob),
    }


def build(executable: Path, ref: str, out: Path) -> None:
    layer = _layer(executable)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Entrypoint": ["/" + executable.name], "User": "65535:65535"},
            "rootfs": {"type": "layers", "diff_ids": [_descriptor("", layer)["digest"]]},
        },
        sort_keys=True,
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": _descriptor("application/vnd.oci.image.config.v1+json", config),
            "layers": [_descriptor("application/vnd.oci.image.layer.v1.tar", layer)],
        },
        sort_keys=True,
    ).encode()
    manifest_desc = _descriptor("application/vnd.oci.image.manifest.v1+json", manifest)
    manifest_desc["annotations"] = {"io.containerd.image.name": ref}
    index = json.dumps({"schemaVersion": 2, "manifests": [manifest_desc]}, sort_keys=True).encode()
    files = {
        "oci-layout": b'{"imageLayoutVersion":"1.0.0"}',
        "index.json": index,
    }
    for blob in (layer, config, manifest):
        files["blobs/sha256/" + hashlib.sha256(blob).hexdigest()] = blob
    with tarfile.open(out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(files[name]), 0o644, 0
            tar.addfile(info, io.BytesIO(files[name]))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    build(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
