#!/usr/bin/env bash
# Which Python base image to build the Lantern images on; prints its reference on stdout.
#
#   PYTHON_IMAGE=$(tools/containers/python-base.sh) docker compose build
#
# With a normal Docker this prints the official image the Dockerfiles name (python:*-slim-*) and
# changes nothing. It exists for machines that cannot reach an image registry (an air-gapped CI,
# a sandbox): there it builds a stand-in from Debian's own packages with debootstrap, imports it
# as lantern-standin/python:<suite>-slim, and prints that instead. The stand-in behaves like the
# official slim image where the Dockerfiles care: `python` and `pip` on PATH (a venv in
# /usr/local), groupadd/useradd, apt, and the CA bundle of this host, so that builds behind a
# TLS-intercepting proxy trust what the host trusts (SSL_CERT_FILE points uv and pip at it).
#
# Needs: a running Docker engine; for the stand-in also root, debootstrap and Debian's mirror.
# Log lines go to stderr; only the image reference goes to stdout.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
docker=${DOCKER:-docker}
official=${1:-$(sed -n 's/^ARG PYTHON_IMAGE=//p' "$root/services/Dockerfile" | head -n 1)}
suite=${official##*-}                      # python:3.13.13-slim-trixie -> trixie
standin="lantern-standin/python:${suite}-slim"
log() { echo "python-base: $*" >&2; }

if "$docker" image inspect "$official" >/dev/null 2>&1; then
    echo "$official"; exit 0
fi
if timeout "${PULL_TIMEOUT_SECONDS:-60}" "$docker" pull -q "$official" >/dev/null 2>&1; then
    log "pulled $official"; echo "$official"; exit 0
fi
if "$docker" image inspect "$standin" >/dev/null 2>&1 && [ -z "${REBUILD:-}" ]; then
    log "$official cannot be pulled; using the stand-in $standin built earlier (REBUILD=1 remakes it)"
    echo "$standin"; exit 0
fi

log "$official cannot be pulled: building the stand-in $standin from Debian $suite packages"
command -v debootstrap >/dev/null || { log "debootstrap is not installed (apt-get install debootstrap)"; exit 1; }
# The mirror this host's apt already uses, else debootstrap's own default.
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)

rootfs=$(mktemp -d "${TMPDIR:-/var/tmp}/python-standin.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$suite" "$rootfs" ${mirror:+"$mirror"} >&2

# Trust exactly what this host trusts, then make /usr/local a venv: `python` and `pip` on PATH.
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
chroot "$rootfs" python3 -m venv /usr/local >&2
chroot "$rootfs" /usr/local/bin/python -m pip --version >&2
# Lean like the official slim image: no apt lists, docs or caches, and apt told not to keep its
# package caches (~100 MB) in any layer that runs apt-get update.
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APT'
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
APT
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*

tar -C "$rootfs" -c . | "$docker" import \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["python3"]' \
    - "$standin" >/dev/null
log "built $standin ($("$docker" image inspect -f '{{.Size}}' "$standin") bytes)"
echo "$standin"
