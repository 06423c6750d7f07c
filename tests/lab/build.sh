#!/usr/bin/env bash
# Builds the lab's Go binaries from the Go module proxy into a cache outside the repository,
# one folder per name and version, so only the first run pays for the build.
# Usage: build.sh [all|etcd|kubernetes|kubectl|velero|velero-plugin-for-aws|minio|paths]...
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/versions.env
source "$LAB_DIR/versions.env"
CACHE=${LAB_CACHE:-$HOME/.cache/openshift-migration-velero}
BIN_CACHE=$CACHE/bin
WRAPPERS=$CACHE/wrappers
# Two cores: keep the compiler from oversubscribing them.
export GOFLAGS="${GOFLAGS:--p=2} -buildvcs=false -trimpath"
export CGO_ENABLED=0

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# bin_dir NAME VERSION -> the cache folder of that build
bin_dir() { printf '%s/%s-%s\n' "$BIN_CACHE" "$1" "$2"; }

# A wrapper module is needed because `go install pkg@version` refuses modules with replace
# directives, and replaces in dependencies are ignored by the consumer.
# new_wrapper NAME VERSION -> creates and prints an empty module folder
new_wrapper() {
  local dir=$WRAPPERS/$1-$2
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && go mod init "lab.local/$1" >/dev/null 2>&1)
  printf '%s\n' "$dir"
}

# write_tools DIR PKG... -> a tools.go importing the main packages so `go mod tidy` keeps them
write_tools() {
  local dir=$1; shift
  {
    echo '//go:build tools'
    echo
    echo 'package tools'
    echo
    echo 'import ('
    local pkg
    for pkg in "$@"; do echo "	_ \"$pkg\""; done
    echo ')'
  } >"$dir/tools.go"
}

# finish NAME VERSION STARTED -> mark the build complete (binaries appear atomically)
finish() {
  local out; out=$(bin_dir "$1" "$2")
  touch "$out/.complete"
  log "$1 $2 built in $(( $(date +%s) - $3 )) s -> $out"
}

is_built() { [[ -f "$(bin_dir "$1" "$2")/.complete" ]]; }

build_etcd() {
  is_built etcd "$ETCD_VERSION" && return 0
  local start; start=$(date +%s); log "building etcd $ETCD_VERSION"
  local dir out; dir=$(new_wrapper etcd "$ETCD_VERSION"); out=$(bin_dir etcd "$ETCD_VERSION")
  write_tools "$dir" go.etcd.io/etcd/server/v3 go.etcd.io/etcd/etcdctl/v3
  (cd "$dir" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "go.etcd.io/etcd/etcdctl/v3@$ETCD_VERSION" \
     && go mod tidy && mkdir -p "$out" \
     && go build -o "$out/etcd" go.etcd.io/etcd/server/v3 \
     && go build -o "$out/etcdctl" go.etcd.io/etcd/etcdctl/v3)
  finish etcd "$ETCD_VERSION" "$start"
}

# The k8s.io/kubernetes go.mod maps every staging module to ./staging/src; a consumer must pin each
# one to the matching v0.X.Y tag. The list comes from that version's own go.mod.
kubernetes_staging_replaces() {
  local gomod staging_version=v0${KUBERNETES_VERSION#v1}
  gomod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
  sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$gomod" \
    | while read -r module; do echo "replace $module => $module $staging_version"; done
}

# kubernetes_ldflags -> version data; without it the binaries report v0.0.0 and clients (Velero)
# record a wrong server version.
kubernetes_ldflags() {
  local ldflags="-s -w" pkg minor
  minor=$(cut -d. -f2 <<<"$KUBERNETES_VERSION")
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  printf '%s\n' "$ldflags"
}

# build_kubernetes_commands NAME CMD... -> build k8s.io/kubernetes/cmd/<CMD> into the NAME cache
build_kubernetes_commands() {
  local name=$1; shift
  is_built "$name" "$KUBERNETES_VERSION" && return 0
  local start; start=$(date +%s); log "building $* $KUBERNETES_VERSION"
  local dir out ldflags command; dir=$(new_wrapper "$name" "$KUBERNETES_VERSION")
  out=$(bin_dir "$name" "$KUBERNETES_VERSION"); ldflags=$(kubernetes_ldflags)
  kubernetes_staging_replaces >>"$dir/go.mod"
  write_tools "$dir" "${@/#/k8s.io/kubernetes/cmd/}"
  (cd "$dir" && go get "k8s.io/kubernetes@$KUBERNETES_VERSION" && go mod tidy && mkdir -p "$out")
  for command in "$@"; do
    (cd "$dir" && go build -ldflags "$ldflags" -o "$out/$command" "k8s.io/kubernetes/cmd/$command")
  done
  finish "$name" "$KUBERNETES_VERSION" "$start"
}

build_kubernetes() { build_kubernetes_commands kubernetes kube-apiserver kube-controller-manager; }

# kubectl is for people looking into the lab; the lab itself uses the Python client.
build_kubectl() { build_kubernetes_commands kubectl kubectl; }

# pin_velero_k8s DIR -> replace every k8s.io/* v0.X.Y module Velero requires by VELERO_K8S_VERSION,
# so Velero and the plugin build against one consistent, downloadable set.
pin_velero_k8s() {
  local gomod
  gomod=$(go mod download -json "github.com/vmware-tanzu/velero@$VELERO_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
  sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) v0\.[0-9]*\.[0-9]*\( .*\)\{0,1\}$#\1#p' "$gomod" | sort -u \
    | while read -r module; do echo "replace $module => $module $VELERO_K8S_VERSION"; done >>"$1/go.mod"
}

build_velero() {
  is_built velero "$VELERO_VERSION" && return 0
  local start; start=$(date +%s); log "building velero $VELERO_VERSION"
  local dir out; dir=$(new_wrapper velero "$VELERO_VERSION"); out=$(bin_dir velero "$VELERO_VERSION")
  # Velero's own go.mod replaces kopia with its fork; the wrapper must repeat it.
  echo "replace $VELERO_KOPIA_REPLACE" >>"$dir/go.mod"
  pin_velero_k8s "$dir"
  write_tools "$dir" github.com/vmware-tanzu/velero/cmd/velero
  local ldflags="-s -w -X github.com/vmware-tanzu/velero/pkg/buildinfo.Version=$VELERO_VERSION"
  # Velero's controller-runtime manager would also serve metrics on :8080 (all interfaces, and one
  # port for both lab servers); "0" switches that server off. Velero's own --metrics-address stays.
  ldflags+=" -X sigs.k8s.io/controller-runtime/pkg/metrics/server.DefaultBindAddress=0"
  (cd "$dir" && go get "github.com/vmware-tanzu/velero@$VELERO_VERSION" && go mod tidy && mkdir -p "$out" \
     && go build -ldflags "$ldflags" -o "$out/velero" github.com/vmware-tanzu/velero/cmd/velero)
  finish velero "$VELERO_VERSION" "$start"
}

build_velero_plugin_for_aws() {
  is_built velero-plugin-for-aws "$VELERO_AWS_PLUGIN_VERSION" && return 0
  local start; start=$(date +%s); log "building velero-plugin-for-aws $VELERO_AWS_PLUGIN_VERSION"
  local dir out; dir=$(new_wrapper velero-plugin-for-aws "$VELERO_AWS_PLUGIN_VERSION")
  out=$(bin_dir velero-plugin-for-aws "$VELERO_AWS_PLUGIN_VERSION")
  local pkg=github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws
  # The plugin's own velero requirement (v1.18.1) is raised to the server's version, which
  # brings Velero's kopia replace and k8s.io pins along.
  echo "replace $VELERO_KOPIA_REPLACE" >>"$dir/go.mod"
  pin_velero_k8s "$dir"
  write_tools "$dir" "$pkg"
  (cd "$dir" && go get "github.com/vmware-tanzu/velero-plugin-for-aws@$VELERO_AWS_PLUGIN_VERSION" \
     "github.com/vmware-tanzu/velero@$VELERO_VERSION" && go mod tidy \
     && mkdir -p "$out/plugins" && go build -ldflags "-s -w" -o "$out/plugins/velero-plugin-for-aws" "$pkg")
  finish velero-plugin-for-aws "$VELERO_AWS_PLUGIN_VERSION" "$start"
}

build_minio() {
  is_built minio "$MINIO_VERSION" && return 0
  local start; start=$(date +%s); log "building minio $MINIO_VERSION"
  local dir out; dir=$(new_wrapper minio "$MINIO_VERSION"); out=$(bin_dir minio "$MINIO_VERSION")
  write_tools "$dir" github.com/minio/minio
  (cd "$dir" && go get "github.com/minio/minio@$MINIO_VERSION" && go mod tidy && mkdir -p "$out" \
     && go build -ldflags "-s -w" -o "$out/minio" github.com/minio/minio)
  finish minio "$MINIO_VERSION" "$start"
}

main() {
  local targets=("$@")
  [[ ${#targets[@]} -gt 0 ]] || targets=(all)
  [[ ${targets[0]} == all ]] && targets=(minio etcd kubernetes kubectl velero velero-plugin-for-aws)
  local target
  for target in "${targets[@]}"; do
    case $target in
      etcd) build_etcd ;;
      kubernetes) build_kubernetes ;;
      kubectl) build_kubectl ;;
      velero) build_velero ;;
      velero-plugin-for-aws) build_velero_plugin_for_aws ;;
      minio) build_minio ;;
      paths) print_paths ;;
      *) echo "build.sh: unknown target '$target'" >&2; exit 2 ;;
    esac
  done
}

# paths -> NAME=PATH lines of every binary, for lab.sh and the Python helpers
print_paths() {
  echo "ETCD_BIN=$(bin_dir etcd "$ETCD_VERSION")/etcd"
  echo "KUBE_APISERVER_BIN=$(bin_dir kubernetes "$KUBERNETES_VERSION")/kube-apiserver"
  echo "KUBE_CONTROLLER_MANAGER_BIN=$(bin_dir kubernetes "$KUBERNETES_VERSION")/kube-controller-manager"
  echo "KUBECTL_BIN=$(bin_dir kubectl "$KUBERNETES_VERSION")/kubectl"
  echo "VELERO_BIN=$(bin_dir velero "$VELERO_VERSION")/velero"
  echo "VELERO_VERSION=$VELERO_VERSION"
  echo "VELERO_PLUGIN_DIR=$(bin_dir velero-plugin-for-aws "$VELERO_AWS_PLUGIN_VERSION")/plugins"
  echo "MINIO_BIN=$(bin_dir minio "$MINIO_VERSION")/minio"
}

main "$@"
