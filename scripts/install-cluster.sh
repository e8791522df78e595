#!/usr/bin/env bash
# Install the Kubernetes control plane the cluster tests (tests/cluster.rs) run against:
#
#   kube-apiserver v1.20.2, built from Debian bookworm's source package `kubernetes`
#     (1.20.5+really1.20.2-1.1+deb12u1: the upstream tree with vendor/, so it builds offline)
#     with Debian's Go 1.19 (golang-1.19-go, unpacked, not installed);
#   etcd 3.4.23, from Debian's binary package `etcd-server` (unpacked, not installed).
#
# No kubelet, no controller-manager: tests/cluster.rs stands in for the kubelet.
#
# The binaries are cached outside the checkout, keyed by version and by the SHA-256 of what
# they were made from, so a machine that built them once never builds again:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/migration-hook/cluster/kube-apiserver-v1.20.2-<sha>/kube-apiserver
#   ${XDG_CACHE_HOME:-$HOME/.cache}/migration-hook/cluster/etcd-3.4.23-<sha>/etcd
#
# Every download is checked against the SHA-256 pins below. apt-get runs with a private sources
# list and private package lists in a temporary directory: the machine's apt configuration and
# installed packages are left alone. The build (about 10 CPU-minutes, 0.8 GB of memory,
# 1.8 GB of disk that is deleted afterwards) runs under `nice`.
#
# Needs: apt-get (Debian), tar, xz, make, sha256sum, dpkg-deb.
# Usage: scripts/install-cluster.sh [--print-paths]
#   --print-paths  print "APISERVER=<path>" and "ETCD=<path>" and exit (non-zero if not built)
set -euo pipefail

# --- pins ------------------------------------------------------------------
readonly KUBE_VERSION="v1.20.2"
readonly KUBE_SRC_VERSION="1.20.5+really1.20.2-1.1+deb12u1"
readonly KUBE_DSC_SHA="19fa1da5aefcef673894ac9511986bd98a14410cf8eea0b626613c30df435257"
readonly KUBE_ORIG="kubernetes_1.20.5+really1.20.2.orig.tar.gz"
readonly KUBE_ORIG_SHA="b83c0780efb182d928dc63d46488a847f161f04e40a94b96bf5247dd671ecdfc"
readonly KUBE_DEBIAN="kubernetes_${KUBE_SRC_VERSION}.debian.tar.xz"
readonly KUBE_DEBIAN_SHA="9b6e5fd41769d2b5badf2e73b274e3bcd90f85e13d06a1a4a845ccce018127d8"
readonly KUBE_COMMIT="faecb196815e248d3ecfb03c680a4507229c2a56"

readonly ETCD_VERSION="3.4.23"
readonly ETCD_DEB_VERSION="3.4.23-4+b4"
readonly ETCD_DEB_SHA="3a9445d4560ad6de1c375756b2a17d97713df44cbd20a658c871fe108af7ef5d"

readonly GO_DEB_VERSION="1.19.8-2"
readonly GO_DEB_SHA="545123039b6c79e75cf2d86528781a825424cf33ce9d3f4513d772d7144cd531"
readonly GO_SRC_DEB_SHA="2dfa82fe4f08f4e0193c532e561af4c91871f5235608f04f2bb8d57bb288df5a"

readonly DEBIAN_MIRROR="${MIGRATION_HOOK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
readonly DEBIAN_SECURITY="${MIGRATION_HOOK_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}"

readonly CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/migration-hook/cluster"
# The cache keys: version and the SHA-256 of the source (for the apiserver, the source and the
# Go toolchain that compiles it).
readonly APISERVER_DIR="${CACHE_DIR}/kube-apiserver-${KUBE_VERSION}-${KUBE_ORIG_SHA:0:16}-go${GO_DEB_SHA:0:8}"
readonly ETCD_DIR="${CACHE_DIR}/etcd-${ETCD_VERSION}-${ETCD_DEB_SHA:0:16}"
readonly APISERVER="${APISERVER_DIR}/kube-apiserver"
readonly ETCD="${ETCD_DIR}/etcd"

TMP_ROOT=""
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

log() { printf 'install-cluster: %s\n' "$*" >&2; }
die() { printf 'install-cluster: ERROR: %s\n' "$*" >&2; exit 1; }
cleanup() {
  if [[ -n "${TMP_ROOT}" && -d "${TMP_ROOT}" ]]; then
    chmod -R u+w -- "${TMP_ROOT}" 2>/dev/null || true # Go's module cache is read-only
    rm -rf -- "${TMP_ROOT}"
  fi
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

require_cmd() { command -v "$1" >/dev/null 2>&1 || die "required command '$1' not found in PATH"; }

verify_sha256() {
  local file="$1" expected="$2" actual
  actual="$(sha256sum -- "${file}" | cut -d' ' -f1)"
  [[ "${actual}" == "${expected}" ]] || die "SHA-256 mismatch for ${file}:
    expected ${expected}
    actual   ${actual}
  Refusing to use it. If the pin was changed on purpose, update the pins in ${BASH_SOURCE[0]}."
}

# apt-get with a private sources list, package lists and cache: nothing of the machine's apt
# state is read or written.
APT=()
setup_apt() {
  local apt_dir="${TMP_ROOT}/apt"
  mkdir -p "${apt_dir}/lists/partial" "${apt_dir}/cache/archives/partial"
  cat >"${apt_dir}/sources.list" <<EOF
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${DEBIAN_MIRROR} bookworm main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${DEBIAN_MIRROR} bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${DEBIAN_SECURITY} bookworm-security main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${DEBIAN_SECURITY} bookworm-security main
EOF
  APT=(
    -o "Dir::Etc::SourceList=${apt_dir}/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=${apt_dir}/lists"
    -o "Dir::Cache=${apt_dir}/cache"
    -o "Debug::NoLocking=1"
  )
  # As root, apt drops to _apt for downloads, which cannot write to our temporary directory.
  [[ "$(id -u)" != 0 ]] || APT+=(-o "APT::Sandbox::User=root")
  log "apt-get update (private lists)"
  apt-get "${APT[@]}" -qq update >&2 || die "apt-get update failed (is ${DEBIAN_MIRROR} reachable?)"
}

# download_deb PACKAGE VERSION SHA DEST_DIR -> prints the .deb's path
download_deb() {
  local pkg="$1" version="$2" sha="$3" dest="$4" deb
  (cd -- "${dest}" && apt-get "${APT[@]}" -qq download "${pkg}=${version}" >&2) \
    || die "apt-get download ${pkg}=${version} failed"
  deb="$(find "${dest}" -maxdepth 1 -name "${pkg}_*.deb" | head -n1)"
  [[ -n "${deb}" ]] || die "no .deb for ${pkg}"
  verify_sha256 "${deb}" "${sha}"
  printf '%s\n' "${deb}"
}

install_etcd() {
  local work="${TMP_ROOT}/etcd" deb
  mkdir -p "${work}"
  log "fetching etcd-server ${ETCD_DEB_VERSION}"
  deb="$(download_deb etcd-server "${ETCD_DEB_VERSION}" "${ETCD_DEB_SHA}" "${work}")"
  dpkg-deb -x "${deb}" "${work}/root"
  mkdir -p "${ETCD_DIR}"
  cp -- "${work}/root/usr/bin/etcd" "${ETCD}.tmp.$$"
  mv -f -- "${ETCD}.tmp.$$" "${ETCD}"
  log "installed ${ETCD}"
}

install_apiserver() {
  local work="${TMP_ROOT}/kube" src gobin started
  started=$SECONDS
  mkdir -p "${work}/dl" "${work}/go" "${work}/shims"
  log "fetching the source package kubernetes ${KUBE_SRC_VERSION}"
  (cd -- "${work}/dl" && apt-get "${APT[@]}" -qq source --download-only "kubernetes=${KUBE_SRC_VERSION}" >&2) \
    || die "apt-get source kubernetes=${KUBE_SRC_VERSION} failed"
  verify_sha256 "${work}/dl/kubernetes_${KUBE_SRC_VERSION}.dsc" "${KUBE_DSC_SHA}"
  verify_sha256 "${work}/dl/${KUBE_ORIG}" "${KUBE_ORIG_SHA}"
  verify_sha256 "${work}/dl/${KUBE_DEBIAN}" "${KUBE_DEBIAN_SHA}"

  log "fetching Go ${GO_DEB_VERSION} (golang-1.19-go, golang-1.19-src; unpacked, not installed)"
  dpkg-deb -x "$(download_deb golang-1.19-go "${GO_DEB_VERSION}" "${GO_DEB_SHA}" "${work}/dl")" "${work}/go"
  dpkg-deb -x "$(download_deb golang-1.19-src "${GO_DEB_VERSION}" "${GO_SRC_DEB_SHA}" "${work}/dl")" "${work}/go"
  export GOROOT="${work}/go/usr/lib/go-1.19"
  gobin="${GOROOT}/bin"
  [[ -x "${gobin}/go" ]] || die "no go binary in golang-1.19-go"

  tar -xzf "${work}/dl/${KUBE_ORIG}" -C "${work}"
  src="$(find "${work}" -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)"
  [[ -d "${src}/vendor" ]] || die "the source has no vendor/ directory"
  rm -rf -- "${work}/dl"

  # The build copies its result with `rsync -pc FILE DIR`; without rsync, `cp -p` does that.
  if ! command -v rsync >/dev/null 2>&1; then
    printf '#!/bin/sh\n# rsync -pc FILE DIR, as hack/lib/golang.sh calls it\nexec cp -p "$2" "$3"\n' \
      >"${work}/shims/rsync"
    chmod +x "${work}/shims/rsync"
  fi
  cat >"${work}/version" <<EOF
KUBE_GIT_COMMIT='${KUBE_COMMIT}'
KUBE_GIT_TREE_STATE='archive'
KUBE_GIT_VERSION='${KUBE_VERSION}'
KUBE_GIT_MAJOR='1'
KUBE_GIT_MINOR='20'
EOF

  log "building kube-apiserver ${KUBE_VERSION} (about 10 CPU-minutes)"
  (
    cd -- "${src}"
    export PATH="${gobin}:${work}/shims:${PATH}"
    export GOPATH="${work}/gopath" GOCACHE="${work}/gocache" GOPROXY=off GOFLAGS=-mod=vendor \
      CGO_ENABLED=0 GO111MODULE=on KUBE_GIT_VERSION_FILE="${work}/version" GOTOOLCHAIN=local
    nice -n 10 make WHAT=cmd/kube-apiserver >"${work}/build.log" 2>&1
  ) || { tail -n 40 "${work}/build.log" >&2; die "the kube-apiserver build failed"; }
  mkdir -p "${APISERVER_DIR}"
  cp -- "${src}/_output/local/bin/linux/amd64/kube-apiserver" "${APISERVER}.tmp.$$"
  mv -f -- "${APISERVER}.tmp.$$" "${APISERVER}"
  log "installed ${APISERVER} (built in $((SECONDS - started)) s)"
}

main() {
  case "${1:-}" in
    "") ;;
    --print-paths)
      [[ -x "${APISERVER}" && -x "${ETCD}" ]] || exit 1
      printf 'APISERVER=%s\nETCD=%s\n' "${APISERVER}" "${ETCD}"
      return 0 ;;
    -h|--help) usage; return 0 ;;
    *) die "unknown argument: $1" ;;
  esac
  if [[ -x "${APISERVER}" && -x "${ETCD}" ]]; then
    printf 'Cluster binaries already installed: %s, %s\n' "${APISERVER}" "${ETCD}"
    return 0
  fi
  for cmd in apt-get tar xz make sha256sum dpkg-deb find; do require_cmd "${cmd}"; done
  TMP_ROOT="$(mktemp -d "${TMPDIR:-/tmp}/install-cluster.XXXXXX")"
  setup_apt
  [[ -x "${ETCD}" ]] || install_etcd
  [[ -x "${APISERVER}" ]] || install_apiserver
  printf 'Cluster binaries installed: %s, %s\n' "${APISERVER}" "${ETCD}"
}

main "$@"
