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
  # No registry reachable: build the same gateway from the npm registry, the
  # real OpenClaw (not a stand-in), on a small Debian root filesystem.
  tag="${image##*:}"
  case "$tag" in
    [0-9]*.[0-9]*.[0-9]*) version="$tag" ;;
    *) version="${OPENCLAW_VERSION:-2026.9.6}" ;;
  esac
  say "cannot pull $image; building OpenClaw $version from the npm registry instead (about 3-5 min the first time)"
  command -v debootstrap >/dev/null || { echo "quickstart: the build needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }
  bash scripts/build-gateway-image.sh "$version"
  image="ocm-openclaw:$version"
  say "built $image: the real OpenClaw gateway $version"
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
port="$(./bin/ocm show "$name" --json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const u=new URL(JSON.parse(s).url);process.stdout.write(u.host)}catch{}})')"
host="${port:-$name.localhost:8080}"
if [ -t 1 ]; then
  # The token signs the browser in; it is shown here only, never written to a file or log.
  say "open $name's assistant, already signed in:"
  printf '    http://%s/#token=%s\n' "$host" "$(./bin/ocm token "$name")"
else
  say "open http://$host/ and paste the token that \`ocm token $name\` prints"
fi
say "the page asks to approve this browser once: run \`./bin/ocm devices $name approve --latest\` in another terminal"
say "running the ocm daemon (Ctrl-C stops the daemon; gateways keep running)"
exec ./bin/ocm daemon
