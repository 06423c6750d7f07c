# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn a module's cluster option into ClusterFacts: given facts, a live connection, or both.

A cluster option holds either facts (server_version, registry_hostname, objects) or
kubernetes.core connection options (kubeconfig, context, host, api_key, ...). Facts given
next to a connection win over discovery.
"""
from __future__ import annotations

import copy

from .context import ClusterFacts, facts_from_dict
from .errors import MigrationError
from .lookups import LiveLookup

FACT_KEYS = ("server_version", "registry_hostname", "objects")
CONNECTION_KEYS = ("kubeconfig", "context", "host", "api_key", "username", "password", "validate_certs",
                   "ca_cert", "client_cert", "client_key", "proxy", "no_proxy", "impersonate_user",
                   "impersonate_groups")


def cluster_option_spec() -> dict:
    """Suboptions of a cluster option: the facts plus kubernetes.core's connection options."""
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

    options = {name: copy.deepcopy(AUTH_ARG_SPEC[name]) for name in CONNECTION_KEYS}
    options["server_version"] = {"type": "str"}
    options["registry_hostname"] = {"type": "str"}
    options["objects"] = {"type": "list", "elements": "dict"}
    return {"type": "dict", "options": options}


def _given(option: dict, keys) -> dict:
    return {key: option[key] for key in keys if option.get(key) is not None}


def is_live(option: dict | None) -> bool:
    return bool(option) and bool(_given(option, CONNECTION_KEYS))


def cluster_from_option(option: dict | None, role: str) -> ClusterFacts | None:
    """ClusterFacts for ``role`` ("source" or "destination"), or None when nothing was given."""
    if not option:
        return None
    facts = _given(option, FACT_KEYS)
    connection = _given(option, CONNECTION_KEYS)
    if not connection:
        return facts_from_dict(facts)
    try:
        from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
        from kubernetes.client import Configuration

        # load_kube_config() leaves the kubeconfig it loaded as the process-wide default, with a
        # hook that writes its host and token back before every request; kubernetes.core copies
        # that default for host/api_key connections, so a second cluster given that way would
        # talk to the first one. Every client starts from a clean default.
        Configuration.set_default(None)
        client = get_api_client(**connection)
        # Discovery may be answered from kubernetes.core's cache file without any connection.
        from kubernetes.client import VersionApi

        VersionApi(getattr(client, "client", client).client).get_code()
    except Exception as exc:  # kubernetes.core raises its own and kubernetes' exception types
        raise MigrationError(f"cannot connect to the {role} cluster: {exc}") from exc
    return ClusterFacts(server_version=facts.get("server_version"),
                        registry_hostname=facts.get("registry_hostname"), lookup=LiveLookup(client))
