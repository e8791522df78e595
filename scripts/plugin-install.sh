#!/bin/sh
# Install hook of the Helm 4 plugin (plugin.yaml, run by `helm plugin install <dir>`): puts the
# migration-hook binary at bin/migration-hook, the command plugin.yaml runs. In that order:
#
# 1. A release tarball (scripts/release.sh) ships a prebuilt binary: bin/migration-hook with
#    bin/PLATFORM naming the platform it was built for (e.g. linux-amd64), or one binary per
#    platform at bin/<os>-<arch>/migration-hook. The one for this machine (`uname -s`, `uname -m`)
#    is used; no Rust toolchain is needed.
# 2. In a checkout, a bin/migration-hook newer than every source file is used as it is; otherwise
#    `cargo build --release --locked` builds one (into $CARGO_TARGET_DIR when set, else target/).
#    Without cargo, an existing bin/migration-hook is used; with no binary at all it fails and
#    says what to do.
#
# Finally the binary's version must equal plugin.yaml's.
#
# Helm runs it with the caller's working directory and HELM_PLUGIN_DIR set to the installed
# plugin (for a local directory, a symlink to it). It can also be run by hand from a checkout or
# an unpacked release tarball.
set -eu

say() { printf 'migration-hook plugin: %s\n' "$*"; }
fail() {
  printf 'migration-hook plugin: error: %s\n' "$*" >&2
  exit 1
}

dir=${HELM_PLUGIN_DIR:-$(cd -- "$(dirname -- "$0")/.." && pwd)}
bin="$dir/bin/migration-hook"
retry="run 'helm plugin uninstall migration-hook' and install the plugin again"

# The version plugin.yaml declares (a plain `version: X` line).
want=$(sed -n 's/^version:[[:space:]]*["'\'']\{0,1\}\([^"'\'' ]*\).*/\1/p' "$dir/plugin.yaml")
[ -n "$want" ] || fail "no version: line in $dir/plugin.yaml"

# This machine as <os>-<arch>, the names release tarballs use (Go's, like Helm's own downloads).
platform() {
  kernel=$(uname -s 2>/dev/null) || kernel=unknown
  machine=$(uname -m 2>/dev/null) || machine=unknown
  case $kernel in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) os=$kernel ;;
  esac
  case $machine in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) arch=$machine ;;
  esac
  printf '%s-%s\n' "$os" "$arch"
}

# True when bin/migration-hook exists and no source file is newer than it.
up_to_date() {
  [ -x "$bin" ] || return 1
  newer=$(find "$dir/Cargo.toml" "$dir/Cargo.lock" "$dir/src" -newer "$bin" -print 2>/dev/null | head -n 1)
  [ -z "$newer" ]
}

here=$(platform)
if [ -f "$dir/bin/$here/migration-hook" ]; then
  # A multi-platform directory: copy this platform's binary to where plugin.yaml runs it.
  say "using the prebuilt binary for $here (bin/$here/migration-hook)"
  cp -- "$dir/bin/$here/migration-hook" "$bin.tmp.$$"
  chmod 0755 -- "$bin.tmp.$$"
  mv -f -- "$bin.tmp.$$" "$bin"
elif [ -f "$dir/bin/PLATFORM" ]; then
  # A release tarball for one platform.
  built_for=$(sed -n '1s/[[:space:]]*$//p' "$dir/bin/PLATFORM")
  [ "$built_for" = "$here" ] \
    || fail "this plugin package is built for $built_for, but this machine is $here. Download the migration-hook $want package for $here (or build from source with cargo), then $retry"
  [ -f "$bin" ] || fail "the plugin package has no bin/migration-hook (the download is incomplete?); unpack it again, then $retry"
  [ -x "$bin" ] || chmod 0755 -- "$bin" || fail "cannot make $bin executable"
  say "using the prebuilt binary for $here"
elif up_to_date; then
  say "using the binary already built at $bin"
elif command -v cargo >/dev/null 2>&1; then
  target=${CARGO_TARGET_DIR:-$dir/target}
  say "building migration-hook with cargo (release build; the first one takes a few minutes)"
  # cargo reads .cargo/config.toml and rust-toolchain.toml from the working directory: use ours.
  (cd -- "$dir" && cargo build --release --locked --target-dir "$target") \
    || fail "cargo build failed (see above); fix it, then $retry"
  mkdir -p -- "$dir/bin"
  cp -- "$target/release/migration-hook" "$bin.tmp.$$"
  mv -f -- "$bin.tmp.$$" "$bin"
elif [ -x "$bin" ]; then
  say "warning: $bin is older than the sources and cargo is not installed to rebuild it; using it as it is"
else
  fail "cargo is not installed, so migration-hook cannot be built. Install Rust (https://rustup.rs), or use a release package for $here (it has the binary), or put a migration-hook binary at $bin; then $retry"
fi

got=$("$bin" --version) || fail "$bin does not run on this machine ($here); $retry"
[ "$got" = "migration-hook $want" ] \
  || fail "$bin says '$got' but plugin.yaml is version $want: it is stale. Delete it, then $retry"
say "installed $got. Use it with: helm install|upgrade|template … --post-renderer migration-hook [--post-renderer-args=…]"
