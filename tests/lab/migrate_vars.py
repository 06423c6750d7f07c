"""Write the variables of the migration playbooks for the local lab (from its state file).

    python tests/lab/migrate_vars.py OUT.json [--name NAME] [--type stage|final] [--map SRC=DEST ...]

The demo, the end-to-end tests, the molecule scenarios and the benchmark run migrate.yml with these.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

DEFAULT_STATE = Path.home() / ".cache/openshift-migration-velero/lab-state"


def lab_state_file() -> Path:
    return Path(os.environ.get("LAB_STATE", DEFAULT_STATE)) / "lab.json"


def load_lab() -> dict:
    path = lab_state_file()
    if not path.exists():
        raise SystemExit(f"the lab is not up ({path} is missing): run `make lab-up` first")
    return json.loads(path.read_text())


def migrate_vars(lab: dict, name: str, kind: str = "stage", namespaces: list[str] | None = None,
                 mapping: dict[str, str] | None = None, report_dir: str = "") -> dict:
    source, destination = lab["clusters"]["source"], lab["clusters"]["destination"]
    s3, registries = lab["s3"], lab["registries"]
    migration, dest_registry = registries["migration"], registries["destination-internal"]
    found = {
        "migrate_name": name,
        "migrate_type": kind,
        "migrate_namespaces": namespaces or [lab["sample"]["namespace"]],
        "migrate_namespace_mapping": mapping or {},
        "migrate_source_kubeconfig": source["kubeconfig"],
        "migrate_destination_kubeconfig": destination["kubeconfig"],
        "migrate_velero_namespace": source["velero"]["namespace"],
        "migrate_storage_location": source["velero"]["backup_storage_location"],
        "migrate_location_bucket": s3["bucket"],
        "migrate_location_prefix": s3["prefix"],
        "migrate_location_endpoint_url": s3["endpoint"],
        "migrate_location_region": s3["region"],
        "migrate_location_access_key": s3["access_key"],
        "migrate_location_secret_key": s3["secret_key"],
        "migrate_registry": migration["address"],
        "migrate_registry_username": migration["username"],
        "migrate_registry_password": migration["password"],
        "migrate_registry_tls_verify": False,  # the lab's migration registry speaks plain HTTP
        "migrate_source_registry_tls_verify": False,
        "migrate_destination_registry_ca_file": dest_registry["ca_file"],
        "migrate_wait_timeout": 600,
    }
    if report_dir:
        found["migrate_report_dir"] = report_dir
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--name", default="lab-demo")
    parser.add_argument("--type", default="stage", choices=["stage", "final"])
    parser.add_argument("--namespace", action="append", default=[])
    parser.add_argument("--map", action="append", default=[], help="SRC=DEST")
    parser.add_argument("--report-dir", default="")
    args = parser.parse_args()
    mapping = dict(item.split("=", 1) for item in args.map)
    values = migrate_vars(load_lab(), args.name, args.type, args.namespace, mapping, args.report_dir)
    out = Path(args.out)
    out.write_text(json.dumps(values, indent=2) + "\n")
    out.chmod(0o600)


if __name__ == "__main__":
    main()
