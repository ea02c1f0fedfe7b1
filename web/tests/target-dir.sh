#!/usr/bin/env bash
# web/build.sh honours CARGO_TARGET_DIR: it packs the .wasm cargo built under that directory, not
# one it guesses at (web/target/..., which may be missing or stale). web/test.sh runs this after
# its build; WASM_BINDGEN must be set (test.sh sets it).
#
# Cheap: the current target directory is copied into a temporary one, so cargo finds the build
# fresh. To tell the two .wasm apart, the copy's gets a custom section holding a random marker
# (appended in place, so cargo's hard link from deps/ carries it too; wasm-bindgen keeps custom
# sections). The check passes only if web/dist's .wasm holds the marker and is byte for byte what
# wasm-bindgen makes of the copy's .wasm. web/dist is put back as it was afterwards.
set -euo pipefail
web=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "web/tests/target-dir.sh: $*"; }
from=${CARGO_TARGET_DIR:-$web/target}
rel=wasm32-unknown-unknown/release/wgconv_web.wasm
if [ ! -f "$from/$rel" ]; then
    say "no $from/$rel: run web/build.sh first"
    exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -a "$from" "$tmp/target"
cp -a "$web/dist" "$tmp/dist.saved"
restore() { rm -rf "$web/dist"; mv "$tmp/dist.saved" "$web/dist"; }

marker="wgconv-target-dir-check-$RANDOM$RANDOM-$$"
python3 - "$tmp/target/$rel" "$marker" <<'EOF'
import sys
def leb(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        if n == 0:
            return out + bytes([b])
        out += bytes([b | 0x80])
name, payload = b"wgconv-check", sys.argv[2].encode()
body = leb(len(name)) + name + payload
with open(sys.argv[1], "ab") as f:  # in place: deps/wgconv_web.wasm is the same inode
    f.write(b"\x00" + leb(len(body)) + body)
EOF

status=0
CARGO_TARGET_DIR="$tmp/target" bash "$web/build.sh" >"$tmp/build.log" 2>&1 || status=$?
if [ $status -ne 0 ]; then
    restore
    say "FAIL: web/build.sh with CARGO_TARGET_DIR=$tmp/target exited $status:"
    tail -20 "$tmp/build.log" >&2
    exit 1
fi
"$WASM_BINDGEN" --target web --no-typescript --out-dir "$tmp/pkg" "$tmp/target/$rel"
packed="$web/dist/pkg/wgconv_web_bg.wasm"
ok=1
grep -q "packing $tmp/target/$rel" "$tmp/build.log" || { say "FAIL: build.sh did not pack $tmp/target/$rel: $(grep packing "$tmp/build.log" || true)"; ok=0; }
grep -aq "$marker" "$packed" || { say "FAIL: web/dist's .wasm is not the one under CARGO_TARGET_DIR (no marker)"; ok=0; }
cmp -s "$packed" "$tmp/pkg/wgconv_web_bg.wasm" || { say "FAIL: web/dist's .wasm differs from wasm-bindgen's output for $tmp/target/$rel"; ok=0; }
restore
if [ $ok = 1 ]; then
    say "ok   build.sh with CARGO_TARGET_DIR set packs the .wasm under it ($(wc -c <"$tmp/pkg/wgconv_web_bg.wasm") bytes, marker found)"
else
    exit 1
fi
