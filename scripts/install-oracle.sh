#!/usr/bin/env bash
# Builds the Kubernetes-meaning oracle (tests/oracle/main.go) into .tools/oracle/yamlcheck.
#
# Offline-friendly: uses only Debian packages (golang-go, golang-k8s-sigs-yaml-dev,
# golang-gopkg-yaml.v2-dev), installing the missing ones with apt-get, and builds in GOPATH
# mode against /usr/share/gocode, so no Go module download ever happens. All Go caches live
# under .tools/oracle (git-ignored), so it does not depend on $HOME and works in CI.
# Idempotent: does nothing if the binary is newer than main.go. Progress goes to stderr;
# the binary's absolute path is the only thing printed on stdout:
#
#   ORACLE=$(scripts/install-oracle.sh) && "$ORACLE" < rendered.yaml
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC="$ROOT/tests/oracle/main.go"
OUT="$ROOT/.tools/oracle"
BIN="$OUT/yamlcheck"
log() { echo "install-oracle: $*" >&2; }

if [[ -x "$BIN" && "$BIN" -nt "$SRC" ]]; then
	log "up to date"
	echo "$BIN"
	exit 0
fi

# --- Debian packages --------------------------------------------------------------------
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }
missing=()
command -v go >/dev/null 2>&1 || missing+=(golang-go)
for p in golang-k8s-sigs-yaml-dev golang-gopkg-yaml.v2-dev; do
	pkg_installed "$p" || missing+=("$p")
done
if ((${#missing[@]})); then
	SUDO=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null 2>&1 || { log "need root or sudo to install: ${missing[*]}"; exit 1; }
		SUDO=(sudo)
	fi
	# Wait for a concurrent apt/dpkg (e.g. another CI step) instead of failing on its lock.
	run_apt() { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 "$@" >&2; }
	apt_install() { run_apt install -y --no-install-recommends "${missing[@]}"; }
	log "installing ${missing[*]}"
	if ! apt_install; then
		log "install failed; running apt-get update and retrying"
		run_apt update
		apt_install
	fi
fi

# --- build ------------------------------------------------------------------------------
# Debian's GOPATH root: /usr/share/gocode/src/sigs.k8s.io/yaml -> /usr/share/gocode
# (sed reads all of dpkg's output, so no SIGPIPE under pipefail).
DEB_GOCODE=$(dpkg -L golang-k8s-sigs-yaml-dev | sed -n 's#/src/sigs\.k8s\.io/yaml$##p')
DEB_GOCODE=${DEB_GOCODE%%$'\n'*}
[[ -n "$DEB_GOCODE" ]] || { log "cannot find sigs.k8s.io/yaml in golang-k8s-sigs-yaml-dev"; exit 1; }

mkdir -p "$OUT/gopath" "$OUT/cache" "$OUT/tmp"
export GO111MODULE=off GOPATH="$OUT/gopath:$DEB_GOCODE" \
	GOCACHE="$OUT/cache" GOTMPDIR="$OUT/tmp" GOENV=off GOFLAGS= \
	GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0
log "building with $(go version) against $DEB_GOCODE"
go build -trimpath -o "$BIN.tmp" "$SRC"

# Smoke test before publishing the binary (the go-yaml v2 resolver must be in effect).
got=$(printf 'b: yes\na: 0644\n' | "$BIN.tmp")
if [[ "$got" != '{"a":420,"b":true}' ]]; then
	log "smoke test failed: got $got"
	exit 1
fi
mv -f "$BIN.tmp" "$BIN"
log "built"
echo "$BIN"
