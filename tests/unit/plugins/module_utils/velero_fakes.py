"""A stand-in for kubernetes.core's K8SClient over a dict of objects, for the Velero helper tests.

``scripts`` play Velero's part: each read of a (kind, name) takes the next status from its list,
so a test can walk a Backup through New, InProgress and Completed.
"""
import json

from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError

VELERO_KINDS = ("Backup", "Restore", "BackupStorageLocation", "DownloadRequest")


def namespace_object(name):
    return {"kind": "Namespace", "metadata": {"name": name}}


class _NotFound:
    status, reason, body, headers = 404, "NotFound", "{}", {}


class FakeInstance:
    def __init__(self, data):
        self.data = data

    def to_dict(self):
        return json.loads(json.dumps(self.data))


class FakeResources:
    def __init__(self, served):
        self.served = served

    def get(self, api_version, kind):
        if (api_version, kind) not in self.served:
            raise ResourceNotFoundError(f"{kind} not found")
        return (api_version, kind)


class FakeClient:
    """The parts of kubernetes.core's K8SClient the helpers use, over a dict of objects."""

    def __init__(self, objects=(), served=None, on_create=None, scripts=None, dry_run=False):
        velero = {("velero.io/v1", kind) for kind in VELERO_KINDS}
        self.resources = FakeResources(served if served is not None else velero | {("v1", "Namespace")})
        self.objects = {(obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"]): obj for obj in objects}
        self.on_create = on_create
        self.scripts = {key: list(statuses) for key, statuses in (scripts or {}).items()}
        self.dry_run = dry_run
        self.created, self.deleted = [], []

        class Configuration:
            host = "https://127.0.0.1:16443"

        self.configuration = Configuration()

    def get(self, resource, name=None, namespace=None):
        key = (resource[1], namespace, name)
        if key not in self.objects:
            raise NotFoundError(_NotFound())
        statuses = self.scripts.get((resource[1], name))
        if statuses:
            self.objects[key]["status"] = statuses.pop(0)
        return FakeInstance(self.objects[key])

    def create(self, resource, definition, namespace=None):
        self.created.append(definition)
        stored = json.loads(json.dumps(definition))
        if self.on_create:
            self.on_create(stored)
        if self.dry_run:
            return FakeInstance(stored)
        self.objects[(resource[1], namespace, definition["metadata"]["name"])] = stored
        return FakeInstance(stored)

    def delete(self, resource, name=None, namespace=None):
        self.deleted.append(name)
