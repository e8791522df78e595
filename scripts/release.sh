#!/usr/bin/env bash
# Builds release binaries and packages each as a Helm 4 plugin tarball, with SHA-256 checksums.
#
#   scripts/release.sh [--out DIR] [--target TRIPLE]...
#       Builds static binaries for the targets (default: all four below) with
#       `cargo build --release --locked --target TRIPLE` and packages each one.
#   scripts/release.sh --binary FILE [--platform OS-ARCH] [--out DIR]
#       Packages an existing binary (default platform: this machine's), without building.
#
# Targets and the platform names of their packages:
#   x86_64-unknown-linux-musl   linux-amd64   static (musl)
#   aarch64-unknown-linux-musl  linux-arm64   static (musl)
#   x86_64-apple-darwin         darwin-amd64  macOS host only
#   aarch64-apple-darwin        darwin-arm64  macOS host only
# A target that cannot be built here (its Rust standard library is not installed, no linker,
# not a macOS host) is skipped with the reason; the script fails only if nothing was packaged
# or a build fails. Cross-linking a Linux target uses $CARGO_TARGET_<TRIPLE>_LINKER when set,
# else <arch>-linux-musl-gcc or <arch>-linux-gnu-gcc when on PATH, else the toolchain's rust-lld.
#
# Output, in DIR (default dist/):
#   migration-hook-<version>-<platform>.tar.gz         the plugin: migration-hook/{plugin.yaml,
#                                                      scripts/plugin-install.sh, LICENSE,
#                                                      README.md, bin/migration-hook, bin/PLATFORM}
#   migration-hook-<version>-<platform>.tar.gz.sha256  its checksum (`sha256sum -c` format)
#   SHA256SUMS                                         the checksums of every tarball in DIR
# Install one with: tar -xzf <tarball> && helm plugin install ./migration-hook
# (the install hook sees bin/PLATFORM and uses the binary; no Rust toolchain needed).
# With GNU tar the tarballs are reproducible (sorted, owner 0, mtime $SOURCE_DATE_EPOCH, by
# default the last commit's time).
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
log() { printf 'release: %s\n' "$*" >&2; }
die() {
	printf 'release: error: %s\n' "$*" >&2
	exit 1
}
usage() { sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

ALL_TARGETS=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-apple-darwin aarch64-apple-darwin)

platform_of_target() {
	case $1 in
	x86_64-unknown-linux-musl) echo linux-amd64 ;;
	aarch64-unknown-linux-musl) echo linux-arm64 ;;
	x86_64-apple-darwin) echo darwin-amd64 ;;
	aarch64-apple-darwin) echo darwin-arm64 ;;
	*) return 1 ;;
	esac
}

# This machine, named like the packages (the same mapping as scripts/plugin-install.sh).
host_platform() {
	local os arch
	case $(uname -s) in Linux) os=linux ;; Darwin) os=darwin ;; *) os=$(uname -s) ;; esac
	case $(uname -m) in x86_64 | amd64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
	echo "$os-$arch"
}

sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum -- "$1" | cut -d' ' -f1
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 -- "$1" | cut -d' ' -f1
	else
		die "need sha256sum or shasum"
	fi
}

# --- arguments ----------------------------------------------------------------------------
out="$ROOT/dist"
binary=""
platform=""
targets=()
while (($#)); do
	case $1 in
	--out) out=${2:?--out needs a directory}; shift 2 ;;
	--out=*) out=${1#*=}; shift ;;
	--target) targets+=("${2:?--target needs a target triple}"); shift 2 ;;
	--target=*) targets+=("${1#*=}"); shift ;;
	--binary) binary=${2:?--binary needs a file}; shift 2 ;;
	--binary=*) binary=${1#*=}; shift ;;
	--platform) platform=${2:?--platform needs OS-ARCH}; shift 2 ;;
	--platform=*) platform=${1#*=}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
done
[[ -z $binary || ${#targets[@]} -eq 0 ]] || die "--binary and --target do not go together"
[[ -n $binary || -z $platform ]] || die "--platform goes with --binary"

version=$(sed -n 's/^version[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n 1)
[[ -n $version ]] || die "no version in Cargo.toml"
plugin_version=$(sed -n 's/^version:[[:space:]]*["'\'']\{0,1\}\([^"'\'' ]*\).*/\1/p' "$ROOT/plugin.yaml")
[[ $plugin_version == "$version" ]] || die "plugin.yaml says version $plugin_version, Cargo.toml $version: make them equal"

# (The ${a[@]+"${a[@]}"} form: macOS's bash 3.2 calls an empty array unbound under set -u.)
for target in ${targets[@]+"${targets[@]}"}; do
	platform_of_target "$target" >/dev/null || die "unknown target $target (one of: ${ALL_TARGETS[*]})"
done
mkdir -p -- "$out"
out=$(cd -- "$out" && pwd -P)
: "${SOURCE_DATE_EPOCH:=$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 0)}"
STAGE_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/migration-hook-release.XXXXXX")
trap 'rm -rf -- "$STAGE_ROOT"' EXIT

# --- packaging ----------------------------------------------------------------------------
# package BINARY PLATFORM: writes the tarball and its .sha256 into $out.
package() {
	local binary=$1 platform=$2 name stage tarball
	name="migration-hook-$version-$platform"
	stage="$STAGE_ROOT/$platform"
	rm -rf -- "$stage"
	local top="$stage/migration-hook"
	mkdir -p -- "$top/bin" "$top/scripts"
	install -m 0644 -- "$ROOT/plugin.yaml" "$ROOT/LICENSE" "$ROOT/README.md" "$top/"
	install -m 0755 -- "$ROOT/scripts/plugin-install.sh" "$top/scripts/"
	install -m 0755 -- "$binary" "$top/bin/migration-hook"
	printf '%s\n' "$platform" >"$top/bin/PLATFORM"
	chmod 0644 -- "$top/bin/PLATFORM"

	tarball="$out/$name.tar.gz"
	local tar_flags=()
	if tar --version 2>/dev/null | grep -q 'GNU tar'; then
		tar_flags=(--sort=name --owner=0 --group=0 --numeric-owner "--mtime=@$SOURCE_DATE_EPOCH")
	fi
	tar ${tar_flags[@]+"${tar_flags[@]}"} -C "$stage" -cf - migration-hook | gzip -n >"$tarball.tmp"
	mv -f -- "$tarball.tmp" "$tarball"
	printf '%s  %s\n' "$(sha256 "$tarball")" "$name.tar.gz" >"$tarball.sha256"
	log "packaged $tarball"
}

# The Rust standard library for TARGET is installed.
have_std() {
	local libdir
	libdir=$(rustc --print target-libdir --target "$1" 2>/dev/null) || return 1
	compgen -G "$libdir/libstd-*.rlib" >/dev/null
}

# Sets REASON to why TARGET cannot be built on this machine, or to nothing when it can; for a
# cross-linked Linux target, exports the linker cargo is to use.
check_target() {
	local target=$1 host=$2 arch var linker=""
	REASON=""
	if [[ $target == *-apple-darwin && $host != darwin-* ]]; then
		REASON="macOS binaries need a macOS host (the Apple SDK and linker)"
		return
	fi
	if ! have_std "$target"; then
		REASON="its Rust standard library is not installed (rustup target add $target)"
		return
	fi
	case $target in
	*-linux-musl)
		arch=${target%%-*}
		var="CARGO_TARGET_$(tr '[:lower:]-' '[:upper:]_' <<<"$target")_LINKER"
		if [[ $host != "$(platform_of_target "$target")" && -z ${!var:-} ]]; then
			linker=$(command -v "$arch-linux-musl-gcc" || command -v "$arch-linux-gnu-gcc" \
				|| compgen -G "$(rustc --print sysroot)/lib/rustlib/*/bin/rust-lld" | head -n 1) || true
			if [[ -z $linker ]]; then
				REASON="no linker for it (set $var)"
				return
			fi
			export "$var=$linker"
			log "$target: linking with $linker"
		fi ;;
	esac
}

packaged=0
if [[ -n $binary ]]; then
	[[ -f $binary ]] || die "no such binary: $binary"
	host=$(host_platform)
	platform=${platform:-$host}
	if [[ $platform == "$host" ]]; then
		got=$("$binary" --version) || die "$binary does not run"
		[[ $got == "migration-hook $version" ]] || die "$binary says '$got', not migration-hook $version"
	fi
	package "$binary" "$platform"
	packaged=1
else
	command -v cargo >/dev/null 2>&1 || die "cargo is not installed (https://rustup.rs); or package a binary with --binary"
	((${#targets[@]})) || targets=("${ALL_TARGETS[@]}")
	host=$(host_platform)
	target_dir=${CARGO_TARGET_DIR:-$ROOT/target}
	for target in "${targets[@]}"; do
		platform=$(platform_of_target "$target") || die "unknown target $target (one of: ${ALL_TARGETS[*]})"
		check_target "$target" "$host"
		if [[ -n $REASON ]]; then
			log "skipping $target ($platform): $REASON"
			continue
		fi
		log "building $target"
		(cd -- "$ROOT" && cargo build --release --locked --target "$target" --target-dir "$target_dir") \
			|| die "cargo build --target $target failed"
		built="$target_dir/$target/release/migration-hook"
		if [[ $target == *-linux-musl ]] && command -v file >/dev/null 2>&1; then
			file -L -- "$built" | grep -Eq 'statically linked|static-pie linked' \
				|| die "$built is not statically linked: $(file -L -- "$built")"
		fi
		package "$built" "$platform"
		packaged=$((packaged + 1))
	done
fi
((packaged)) || die "nothing was packaged (see the reasons above)"

# Checksums of every tarball in the output directory (the ones from earlier runs included).
(
	cd -- "$out"
	shopt -s nullglob
	sums=(migration-hook-*.tar.gz.sha256)
	cat -- "${sums[@]}" >SHA256SUMS.tmp
	mv -f SHA256SUMS.tmp SHA256SUMS
)
log "done: $packaged package(s) in $out (checksums in $out/SHA256SUMS)"
