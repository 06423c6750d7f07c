#!/usr/bin/env bash
# Entry point of the local lab (make lab-up / lab-down / lab-status / lab-build).
#   lab.sh build   build (once, cached by version) every binary the lab runs
#   lab.sh up      build if needed, then start everything and write the state file
#   lab.sh down    stop every lab process and remove the state folder
#   lab.sh status  show what runs; exit 1 if anything is down
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# `up` needs the kubernetes client from the test venv (make puts it first on PATH);
# down and status use only the standard library.
PYTHON=${LAB_PYTHON:-python3}

case ${1:-status} in
  build)
    "$LAB_DIR/build.sh" all
    ;;
  up)
    "$LAB_DIR/build.sh" all
    exec "$PYTHON" "$LAB_DIR/lab.py" up
    ;;
  down | status)
    exec "$PYTHON" "$LAB_DIR/lab.py" "$1"
    ;;
  *)
    echo "usage: $0 build|up|down|status" >&2
    exit 2
    ;;
esac
