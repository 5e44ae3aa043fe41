#!/usr/bin/env bash
# Builds the test gateway image (default tag ocm-fixture-gateway:latest) with no
# registry: FROM scratch + the host's node binary, the shared libraries it links
# against, a minimal /etc and the fixture server test/fixtures/gateway/openclaw.mjs.
#
#   scripts/build-fixture-image.sh [TAG]
#
# Idempotent: the build context is hashed into the label ocm.fixture.hash; when
# an image with that hash exists already, nothing is built (it is only tagged).
set -euo pipefail

tag="${1:-ocm-fixture-gateway:latest}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$repo_root/test/fixtures/gateway"

command -v docker >/dev/null || { echo "build-fixture-image: docker CLI not found" >&2; exit 1; }
node_bin="$(command -v node || true)"
[ -n "$node_bin" ] || { echo "build-fixture-image: node not found on PATH" >&2; exit 1; }
node_bin="$(readlink -f "$node_bin")"
[ -f "$src/openclaw.mjs" ] || { echo "build-fixture-image: missing $src/openclaw.mjs" >&2; exit 1; }

# Serialise concurrent builds (parallel test files may all call this).
lock="${TMPDIR:-/tmp}/ocm-fixture-image.lock"
if command -v flock >/dev/null; then
  exec 9>"$lock"
  flock 9
fi

ctx="$(mktemp -d "${TMPDIR:-/tmp}/ocm-fixture-ctx.XXXXXX")"
trap 'rm -rf "$ctx"' EXIT
root="$ctx/rootfs"
home="$ctx/home"
mkdir -p "$root/usr/local/bin" "$root/app" "$root/etc" "$root/tmp" \
  "$home/node/.openclaw" "$home/node/.config"

# node and every shared object it needs, at the paths the loader reports.
cp "$node_bin" "$root/usr/local/bin/node"
libs="$(ldd "$node_bin")" || { echo "build-fixture-image: ldd $node_bin failed (static or foreign binary?)" >&2; exit 1; }
if grep -q 'not found' <<<"$libs"; then
  echo "build-fixture-image: unresolved libraries for $node_bin:" >&2
  grep 'not found' <<<"$libs" >&2
  exit 1
fi
while read -r lib; do
  [ -n "$lib" ] || continue
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done < <(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' <<<"$libs" | sort -u)

cp "$src/openclaw.mjs" "$root/app/openclaw.mjs"

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
node:x:1000:1000:node:/home/node:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
node:x:1000:
nogroup:x:65534:
EOF
cat >"$root/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
EOF

chmod 0755 "$root" "$root/usr" "$root/usr/local" "$root/usr/local/bin" "$root/app" "$root/etc" "$home" "$home/node" "$home/node/.config"
chmod 0644 "$root/app/openclaw.mjs" "$root/etc/passwd" "$root/etc/group" "$root/etc/nsswitch.conf"
chmod 1777 "$root/tmp"
chmod 0700 "$home/node/.openclaw"

# Content hash of everything that goes into the image (names, modes, bytes).
dockerfile_body='FROM scratch
COPY rootfs/ /
COPY --chown=1000:1000 home/ /home/
ENV HOME=/home/node PATH=/usr/local/bin:/usr/bin:/bin
WORKDIR /app
USER 1000:1000
EXPOSE 18789
CMD ["node", "openclaw.mjs", "gateway", "--allow-unconfigured", "--bind", "lan", "--port", "18789"]'
hash="$(
  cd "$ctx"
  {
    printf '%s\n' "$dockerfile_body"
    find . -printf '%p %m %y\n' | LC_ALL=C sort
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-32
)"

current="$(docker image inspect -f '{{index .Config.Labels "ocm.fixture.hash"}}' "$tag" 2>/dev/null || true)"
if [ "$current" = "$hash" ]; then
  echo "build-fixture-image: $tag is up to date ($hash)"
  exit 0
fi
old_id="$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)"

same="$(docker images -q --no-trunc --filter "label=ocm.fixture.hash=$hash" | head -n1)"
if [ -n "$same" ]; then
  docker tag "$same" "$tag"
  echo "build-fixture-image: tagged existing image ${same#sha256:} as $tag ($hash)"
else
  printf '%s\nLABEL ocm.fixture="1" ocm.fixture.hash="%s"\n' "$dockerfile_body" "$hash" >"$ctx/Dockerfile"
  echo "build-fixture-image: building $tag from $node_bin ($(node --version)) ..."
  start=$(date +%s)
  # The legacy builder ships with every Docker Engine; BuildKit needs a plugin.
  if ! out="$(DOCKER_BUILDKIT="${DOCKER_BUILDKIT:-0}" docker build --quiet --tag "$tag" "$ctx" 2>&1)"; then
    echo "$out" >&2
    echo "build-fixture-image: docker build failed" >&2
    exit 1
  fi
  echo "build-fixture-image: built $tag in $(( $(date +%s) - start ))s ($hash)"
fi

# Drop the image this tag pointed to before, if nothing else uses it.
new_id="$(docker image inspect -f '{{.Id}}' "$tag")"
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
  if [ -z "$(docker image inspect -f '{{join .RepoTags " "}}' "$old_id" 2>/dev/null)" ]; then
    docker rmi "$old_id" >/dev/null 2>&1 || true
  fi
fi
