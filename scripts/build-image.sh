#!/usr/bin/env bash
# Builds the kdiag container image without pulling from any container registry: mmdebstrap makes a
# Debian bookworm root filesystem (packages from the Debian mirror apt already uses) holding the
# tools kdiag drives and the single executable (npm run build:exe), and podman imports it as
# localhost/kdiag:VERSION with kdiag as its entrypoint.
#   scripts/build-image.sh [--no-exe-build] [--mirror URL] [--tar-only]
# Needs root (or working user namespaces) for mmdebstrap, and podman unless --tar-only.
set -euo pipefail
cd "$(dirname "$0")/.."

build_exe=1
tar_only=0
mirror=${KDIAG_DEBIAN_MIRROR:-http://deb.debian.org/debian}
while [ "$#" -gt 0 ]; do
  case "$1" in
    --no-exe-build) build_exe=0 ;;
    --tar-only) tar_only=1 ;;
    --mirror) mirror=$2; shift ;;
    *) echo "build-image: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

for tool in mmdebstrap $([ "$tar_only" = 1 ] || echo podman); do
  command -v "$tool" >/dev/null || { echo "build-image: $tool is missing (apt-get install mmdebstrap podman)" >&2; exit 2; }
done

version=$(node -p 'require("./package.json").version')
image="localhost/kdiag:$version"
out=build/image
mkdir -p "$out"
tarball="$out/kdiag-$version-rootfs.tar"

t0=$(date +%s)
if [ "$build_exe" = 1 ]; then npm run --silent build:exe; fi
[ -x dist-exe/kdiag ] || { echo "build-image: dist-exe/kdiag is missing: run npm run build:exe" >&2; exit 2; }
t1=$(date +%s)

# iptables for iptables-save (kube-proxy's iptables mode), nftables for its nftables mode, mount
# for tracefs and /run/netns inside kubectl debug, the rest as kdiag doctor lists them.
# Documentation, man pages and locales are left out (path-exclude).
packages=bpftrace,conntrack,ipvsadm,iproute2,iptables,nftables,util-linux,mount,procps,kmod
mmdebstrap \
  --variant=essential \
  --include="$packages" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook='mkdir -p "$1/usr/local/bin" "$1/sys/kernel/tracing" "$1/run/netns" "$1/var/lib/kdiag"' \
  --customize-hook='upload dist-exe/kdiag /usr/local/bin/kdiag' \
  --customize-hook='chmod 0755 "$1/usr/local/bin/kdiag"' \
  --customize-hook='rm -rf "$1/var/cache/apt/"* "$1/var/lib/apt/lists/"* "$1/var/log/"*' \
  bookworm "$tarball" "$mirror"
t2=$(date +%s)
echo "rootfs: $tarball ($(du -m "$tarball" | cut -f1) MiB)"

if [ "$tar_only" = 0 ]; then
  podman import \
    --change 'ENTRYPOINT ["/usr/local/bin/kdiag"]' \
    --change 'CMD ["doctor"]' \
    --change "LABEL org.opencontainers.image.title=kdiag org.opencontainers.image.version=$version" \
    --quiet "$tarball" "$image" >/dev/null
  podman tag "$image" localhost/kdiag:latest
  echo "image: $image ($(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MiB", $1/1048576}'))"
fi
t3=$(date +%s)
echo "build-image: executable $((t1 - t0)) s, rootfs $((t2 - t1)) s, import $((t3 - t2)) s, total $((t3 - t0)) s"
