#!/usr/bin/env bash
# The collection as an execution environment sees it: ansible-builder reads meta/execution-environment.yml
# of the installed collection (Python and system requirements), and creates the build context of an
# EE definition that installs the collection (tests/ee/execution-environment.yml).
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT

ansible-galaxy collection build --output-path "${work}" ../.. >/dev/null
tarball=$(ls "${work}"/openshift_migration-velero-*.tar.gz)
ansible-galaxy collection install --force --no-deps -p "${work}/collections" "${tarball}" >/dev/null

introspected=$(ansible-builder introspect "${work}/collections")
echo "${introspected}"
for wanted in "kubernetes>=24.2.0" "boto3>=1.28.0" "orjson>=3.9" "skopeo"; do
  if ! grep -q -- "${wanted}.*openshift_migration.velero" <<<"${introspected}"; then
    echo "FAILED: ansible-builder introspect does not list ${wanted} from openshift_migration.velero"
    exit 1
  fi
done

cp execution-environment.yml requirements.yml "${work}/"
ansible-builder create --output-filename Containerfile --file "${work}/execution-environment.yml" \
  --context "${work}/context" >/dev/null
test -f "${work}/context/Containerfile" || { echo "FAILED: no Containerfile in the build context"; exit 1; }
grep -q "openshift_migration.velero" "${work}/context/_build/requirements.yml" \
  || { echo "FAILED: the build context does not install the collection"; exit 1; }
echo "ansible-builder create: build context ready"
