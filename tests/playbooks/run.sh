#!/usr/bin/env bash
# Run every playbook test of this folder through ansible-playbook, first against the working
# tree, then against the collection built and installed from its tarball.
set -euo pipefail
cd "$(dirname "$0")"
status=0
run_all() {
  local where=$1
  for playbook in test_*.yml; do
    echo "== ${playbook} (${where})"
    if ! ansible-playbook "${playbook}"; then
      echo "FAILED: ${playbook} (${where})"
      status=1
    fi
  done
}

run_all "working tree"

installed=$(mktemp -d)
trap 'rm -rf "${installed}"' EXIT
ansible-galaxy collection build --output-path "${installed}/dist" ../.. >/dev/null
# --force: the working tree is already on the collections path and would count as installed.
# kubernetes.core comes from the same collections path as before; Galaxy is not needed.
ansible-galaxy collection install --force --no-deps -p "${installed}/collections" "${installed}"/dist/*.tar.gz >/dev/null
kubernetes_core=$(dirname "$(dirname "$(readlink -f "${ANSIBLE_COLLECTIONS_PATH}/ansible_collections/kubernetes/core")")")
echo "installed copy: ${installed}/collections (kubernetes.core from ${kubernetes_core})"
ANSIBLE_COLLECTIONS_PATH="${installed}/collections:${kubernetes_core%/ansible_collections}" run_all "installed tarball"
exit "${status}"
