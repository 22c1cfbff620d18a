#!/bin/bash
# Builds the sidecar image from packaging/Dockerfile with buildah, as someone
# without a Docker daemon would (packaging/README.md). The Debian base images the
# Dockerfile names, debian:12 and debian:12-slim, are made once with debootstrap
# and kept in buildah's storage: later runs reuse them and start at the build.
#   scripts/image.sh [TAG]        default TAG: localhost/vigil:latest
# Needs root, buildah and debootstrap (scripts/deps.sh --test installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-localhost/vigil:latest}
buildah=(buildah --storage-driver vfs)
base=docker.io/library/debian

# The Debian mirror this machine's apt uses, so the base comes from where the
# machine's packages come from.
mirror() {
  local uri
  uri=$(grep -rhoE '^(URIs:|deb) +[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
        awk '{print $2}' | grep -E '/debian/?$' | head -n 1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

# Trims a debootstrap tree the way Debian's own -slim images are trimmed: no
# documentation, manual pages or translations, and apt keeps no package lists
# or downloaded packages in a layer.
slim() {
  local root=$1
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
EOF
  find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/{man,groff,info,lintian,linda,locale}/* \
         "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*
}

make_base() {
  local root url security ctr mnt
  root=$(mktemp -d /var/tmp/vigil-rootfs.XXXXXX)
  url=$(mirror)
  security=${url%/debian*}/debian-security
  echo "== base image: debootstrap bookworm from $url" >&2
  debootstrap --variant=minbase bookworm "$root" "$url" >"$root.log" 2>&1 ||
    { cat "$root.log" >&2; exit 1; }
  cat >"$root/etc/apt/sources.list" <<EOF
deb $url bookworm main
deb $url bookworm-updates main
deb $security bookworm-security main
EOF
  slim "$root"
  ctr=$("${buildah[@]}" from scratch)
  mnt=$("${buildah[@]}" mount "$ctr")
  cp -a "$root"/. "$mnt"/
  "${buildah[@]}" umount "$ctr" >/dev/null
  "${buildah[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd bash "$ctr"
  "${buildah[@]}" commit -q "$ctr" "$base:12" >/dev/null
  "${buildah[@]}" tag "$base:12" "$base:12-slim"
  "${buildah[@]}" rm "$ctr" >/dev/null
  rm -rf "$root" "$root.log"
}

if ! "${buildah[@]}" inspect --type image "$base:12-slim" >/dev/null 2>&1; then
  make_base
fi
"${buildah[@]}" bud --isolation chroot --pull=never --layers=false \
  --ignorefile packaging/Dockerfile.dockerignore \
  -f packaging/Dockerfile -t "$tag" .
echo "$tag: $("${buildah[@]}" images --format '{{.Size}}' "$tag"), built in ${SECONDS} s"
