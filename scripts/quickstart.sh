#!/usr/bin/env bash
# npm run quickstart [name]: from a fresh clone to a first user's gateway on
# embedded defaults. Builds ocm, creates the deployment root (OCM_ROOT,
# default /opt/ocm), adds the user (default alice), starts their gateway and
# runs the daemon in the foreground: browse http://<name>.localhost:8080.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

name="${1:-alice}"
export OCM_ROOT="${OCM_ROOT:-/opt/ocm}"
image="${OCM_IMAGE:-ghcr.io/openclaw/openclaw:latest}"
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

command -v docker >/dev/null || { echo "quickstart: Docker is required (apt-get install docker.io)" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "quickstart: Docker is not answering; start it (systemctl start docker, or dockerd &)" >&2; exit 1; }

if [ ! -d node_modules ]; then say "installing npm dependencies"; npm ci --no-audit --no-fund; fi
say "building ocm"
npm run --silent build

if ! docker image inspect "$image" >/dev/null 2>&1 && ! docker pull "$image"; then
  # No registry reachable: fall back to the local stand-in gateway so ocm can
  # still be tried end to end. It is NOT an AI assistant.
  say "cannot pull $image; using the local test gateway image instead (set OCM_IMAGE to a real image)"
  bash scripts/build-fixture-image.sh
  image="ocm-fixture-gateway:latest"
fi

if [ ! -f "$OCM_ROOT/ocm.yaml" ]; then
  say "creating the deployment root $OCM_ROOT"
  ./bin/ocm init --image "$image"
fi
if ! ./bin/ocm show "$name" >/dev/null 2>&1; then
  say "adding $name"
  ./bin/ocm add "$name"
else
  ./bin/ocm up "$name"
fi
say "$name's token (paste it into the Control UI once):"
./bin/ocm token "$name"
say "running the ocm daemon: browse http://$name.localhost:8080 (Ctrl-C stops the daemon; gateways keep running)"
exec ./bin/ocm daemon
