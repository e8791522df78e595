#!/bin/sh
# Install hook of the Helm 4 plugin (plugin.yaml, run by `helm plugin install <dir>`): puts a
# migration-hook binary built from this checkout at bin/migration-hook, the command plugin.yaml
# runs. A binary already there that is newer than every source file is used as it is; otherwise
# `cargo build --release --locked` builds one (into $CARGO_TARGET_DIR when set, else target/).
# Without cargo, an existing bin/migration-hook is used; with no binary at all it fails and says
# what to do. Finally the binary's version must equal plugin.yaml's.
#
# Helm runs it with the caller's working directory and HELM_PLUGIN_DIR set to the installed
# plugin (for a local directory, a symlink to it). It can also be run by hand from a checkout.
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

# True when bin/migration-hook exists and no source file is newer than it.
up_to_date() {
  [ -x "$bin" ] || return 1
  newer=$(find "$dir/Cargo.toml" "$dir/Cargo.lock" "$dir/src" -newer "$bin" -print 2>/dev/null | head -n 1)
  [ -z "$newer" ]
}

if up_to_date; then
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
  fail "cargo is not installed, so migration-hook cannot be built. Install Rust (https://rustup.rs), or put a migration-hook binary at $bin; then $retry"
fi

got=$("$bin" --version) || fail "$bin does not run; $retry"
[ "$got" = "migration-hook $want" ] \
  || fail "$bin says '$got' but plugin.yaml is version $want: it is stale. Delete it, then $retry"
say "installed $got. Use it with: helm install|upgrade|template … --post-renderer migration-hook [--post-renderer-args=…]"
