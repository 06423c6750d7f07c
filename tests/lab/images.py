"""Build tiny container images as OCI layouts and push them with skopeo.

Images are made of gzip-compressed tar layers written byte for byte the same way every time
(fixed timestamps and owners), so an image's digest depends only on its content: base layers
are shared between images, and the top layer carries a label of its own so digests differ.

    from tests.lab.images import ImageBuilder
    builder = ImageBuilder(Path("/tmp/layouts"))
    digest = builder.push("web", "v1", "docker://127.0.0.1:5000/app/web:v1", tls_verify=False)

``image_stream()`` builds the ImageStream object (as stored in a backup) that points at pushed
images, for tests and the lab's sample application.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import platform
import random
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
REF_NAME = "org.opencontainers.image.ref.name"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Layer:
    blob: bytes  # gzip-compressed tar
    diff_id: str  # digest of the uncompressed tar, as the image config lists it

    @property
    def digest(self) -> str:
        return sha256(self.blob)


def make_layer(files: dict[str, bytes]) -> Layer:
    """A layer holding ``files`` (path -> content), reproducible byte for byte."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(files):
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mtime, info.mode = len(files[path]), 0, 0o644
            tar.addfile(info, io.BytesIO(files[path]))
    compressed = gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)
    return Layer(blob=compressed, diff_id=sha256(raw.getvalue()))


def base_layer(index: int, size: int = 256 * 1024) -> Layer:
    """A shared base layer of ``size`` incompressible bytes (seeded, so always identical)."""
    content = random.Random(f"base-{index}").randbytes(size)
    return make_layer({f"base/{index}.bin": content})


def _write_blob(layout: Path, data: bytes) -> dict:
    digest = sha256(data)
    path = layout / "blobs" / "sha256" / digest.split(":", 1)[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(data)
    return {"digest": digest, "size": len(data)}


def write_manifest(layout: Path, layers: list[Layer], labels: dict[str, str],
                   architecture: str = "amd64") -> dict:
    """Write an image's blobs into an OCI layout; return the manifest's descriptor."""
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    config = {
        "architecture": architecture,
        "os": "linux",
        "config": {"Labels": labels, "Cmd": ["/bin/true"]},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, **_write_blob(layout, config_bytes)},
        "layers": [{"mediaType": OCI_LAYER_GZIP, **_write_blob(layout, layer.blob)}
                   for layer in layers],
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True).encode()
    return {"mediaType": OCI_MANIFEST, **_write_blob(layout, manifest_bytes)}


def tag_descriptor(layout: Path, tag: str, descriptor: dict) -> str:
    """Name ``descriptor`` ``tag`` in the layout's index.json; return its digest."""
    index_path = layout / "index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {
        "schemaVersion": 2, "manifests": []}
    index["manifests"] = [m for m in index["manifests"]
                          if m.get("annotations", {}).get(REF_NAME) != tag]
    index["manifests"].append({**descriptor, "annotations": {REF_NAME: tag}})
    index_path.write_text(json.dumps(index, indent=1))
    return descriptor["digest"]


def write_oci_image(layout: Path, tag: str, layers: list[Layer], labels: dict[str, str]) -> str:
    """Write (or add a tag to) an OCI layout; return the manifest digest."""
    return tag_descriptor(layout, tag, write_manifest(layout, layers, labels))


def write_oci_index(layout: Path, tag: str, images: dict[str, dict]) -> str:
    """Tag a multi-platform index of ``images`` ({architecture: manifest descriptor})."""
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX,
             "manifests": [{**descriptor, "platform": {"architecture": arch, "os": "linux"}}
                           for arch, descriptor in images.items()]}
    index_bytes = json.dumps(index, sort_keys=True).encode()
    return tag_descriptor(layout, tag, {"mediaType": OCI_INDEX, **_write_blob(layout, index_bytes)})


def host_architecture() -> str:
    """The architecture skopeo picks from a multi-platform image on this machine."""
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def write_authfile(path: Path, credentials: dict[str, tuple[str, str]]) -> Path:
    """A containers auth.json (mode 0600) for {host:port: (username, password)}."""
    auths = {host: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
             for host, (user, password) in credentials.items()}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"auths": auths}, handle)
    return path


def skopeo_transport_args(prefix: str, *, tls_verify: bool = True, authfile: str | None = None,
                          cert_dir: str | None = None) -> list[str]:
    """skopeo options for one side of a copy (prefix "src" or "dest")."""
    args = [f"--{prefix}-tls-verify={'true' if tls_verify else 'false'}"]
    if authfile:
        args.append(f"--{prefix}-authfile={authfile}")
    if cert_dir:
        args.append(f"--{prefix}-cert-dir={cert_dir}")
    return args


def push_layout(layout: Path, tag: str, dest: str, multi_arch: str = "system",
                **dest_options) -> str:
    """Copy ``oci:layout:tag`` to ``dest`` (a docker:// reference); return the pushed digest.

    ``multi_arch="all"`` pushes a multi-platform index whole (its digest kept).
    """
    with tempfile.TemporaryDirectory() as scratch:
        digest_file = Path(scratch) / "digest"
        command = ["skopeo", "--insecure-policy", "copy", "--quiet", f"--multi-arch={multi_arch}",
                   f"--digestfile={digest_file}", *skopeo_transport_args("dest", **dest_options),
                   f"oci:{layout}:{tag}", dest]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"skopeo push of {layout}:{tag} to {dest} failed: "
                               f"{result.stderr.strip()}")
        return digest_file.read_text().strip()


class ImageBuilder:
    """Builds images sharing ``base_count`` base layers; each (name, tag) gets its own top layer."""

    def __init__(self, workdir: Path, base_count: int = 2, base_size: int = 256 * 1024,
                 top_size: int = 4 * 1024):
        self.workdir = workdir
        self.base = [base_layer(i, base_size) for i in range(base_count)]
        self.top_size = top_size

    def build(self, name: str, tag: str, variant: str = "") -> tuple[Path, str]:
        """Write image ``name:tag`` (``variant`` changes its content); return (layout, digest)."""
        seed = f"{name}:{tag}:{variant}"
        top = make_layer({"app/id.txt": seed.encode(),
                          "app/data.bin": random.Random(seed).randbytes(self.top_size)})
        layout = self.workdir / name
        digest = write_oci_image(layout, tag, [*self.base, top],
                                 {"io.openshift-migration.test": seed})
        return layout, digest

    def push_multi_platform(self, name: str, tag: str, dest: str,
                            **dest_options) -> tuple[str, dict[str, str]]:
        """Push an index of two platform images; return (index digest, {arch: digest})."""
        layout = self.workdir / name
        images = {}
        for arch in (host_architecture(), "s390x"):
            seed = f"{name}:{tag}:{arch}"
            top = make_layer({"app/id.txt": seed.encode()})
            images[arch] = write_manifest(layout, [*self.base, top],
                                          {"io.openshift-migration.test": seed}, arch)
        built = write_oci_index(layout, tag, images)
        pushed = push_layout(layout, tag, dest, multi_arch="all", **dest_options)
        if pushed != built:
            raise RuntimeError(f"pushed digest {pushed} differs from built digest {built}")
        return built, {arch: descriptor["digest"] for arch, descriptor in images.items()}

    def push(self, name: str, tag: str, dest: str, variant: str = "", **dest_options) -> str:
        layout, built = self.build(name, tag, variant)
        pushed = push_layout(layout, tag, dest, **dest_options)
        if pushed != built:
            raise RuntimeError(f"pushed digest {pushed} differs from built digest {built}")
        return pushed


def image_stream(namespace: str, name: str, tags: dict[str, list[str]], *,
                 spec_tags: dict[str, dict | None] | None = None,
                 internal_registry: str = "") -> dict:
    """An ImageStream as stored in a backup.

    ``tags`` maps a tag to its history of image references, newest first, each
    ``repository@digest`` (e.g. ``127.0.0.1:5000/app/web@sha256:...``). ``spec_tags`` maps a tag
    to its ``from`` (``None`` for a tag without ``from``); tags absent there get no spec entry.
    """
    status_tags = []
    for tag, references in tags.items():
        items = [{"created": "2024-01-01T00:00:00Z", "dockerImageReference": ref,
                  "image": ref.rsplit("@", 1)[1], "generation": 1} for ref in references]
        status_tags.append({"tag": tag, "items": items})
    stream = {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": name, "namespace": namespace, "annotations": {}},
        "spec": {"lookupPolicy": {"local": False},
                 "tags": [{"name": tag, **({"from": source} if source else {})}
                          for tag, source in (spec_tags or {}).items()]},
        "status": {"tags": status_tags},
    }
    if internal_registry:
        stream["status"]["dockerImageRepository"] = f"{internal_registry}/{namespace}/{name}"
    return stream
