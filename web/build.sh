#!/usr/bin/env bash
# Builds the page into web/dist/: the wgconv-web crate for wasm32, wasm-bindgen's JS glue, and
# the static files of web/www. Installs nothing. It needs:
#   - rustup's wasm32-unknown-unknown target (rustup target add wasm32-unknown-unknown);
#   - wasm-bindgen-cli of exactly the version of the wasm-bindgen crate in web/Cargo.lock,
#     found as: $WASM_BINDGEN if set; else
#     ${WGCONV_WEB_TOOLS:-$HOME/.cache/wgconv-web}/wasm-bindgen-cli-VERSION/bin/wasm-bindgen
#     (where web/test.sh installs it); else `wasm-bindgen` on PATH if its version matches.
# The .wasm is taken from where cargo reports it, so CARGO_TARGET_DIR (or a build.target-dir
# in a cargo config) is honoured.
# Serve it with: python3 -m http.server -d web/dist 8000 --bind 127.0.0.1
set -euo pipefail
web=$(cd "$(dirname "$0")" && pwd)
cd "$web"

version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$version" ]; then
    echo "build.sh: no wasm-bindgen version in web/Cargo.lock" >&2
    exit 2
fi
tools=${WGCONV_WEB_TOOLS:-$HOME/.cache/wgconv-web}
bindgen=${WASM_BINDGEN:-}
if [ -z "$bindgen" ] && [ -x "$tools/wasm-bindgen-cli-$version/bin/wasm-bindgen" ]; then
    bindgen="$tools/wasm-bindgen-cli-$version/bin/wasm-bindgen"
fi
if [ -z "$bindgen" ] && command -v wasm-bindgen >/dev/null; then
    bindgen=$(command -v wasm-bindgen)
fi
if [ -z "$bindgen" ]; then
    echo "build.sh: wasm-bindgen $version not found; install it with" >&2
    echo "  cargo install wasm-bindgen-cli --version $version --root $tools/wasm-bindgen-cli-$version" >&2
    echo "(or run web/test.sh, which does), or point WASM_BINDGEN at one" >&2
    exit 2
fi
found=$("$bindgen" --version | awk '{ print $2 }')
if [ "$found" != "$version" ]; then
    echo "build.sh: $bindgen is wasm-bindgen $found; web/Cargo.lock needs exactly $version" >&2
    exit 2
fi

# Cargo says where it put the .wasm (under $CARGO_TARGET_DIR when set, or a config's target-dir):
# the `filenames` of wgconv-web's compiler-artifact message. Diagnostics still go to stderr.
wasm=$(cargo build --release --locked --target wasm32-unknown-unknown \
        --message-format=json-render-diagnostics |
    python3 -c '
import json, sys
found = []
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m["target"]["name"].replace("_", "-") == "wgconv-web":
        found += [f for f in m["filenames"] if f.endswith(".wasm")]
if len(found) != 1:
    sys.exit("build.sh: cargo named %d .wasm files for wgconv-web: %s" % (len(found), found))
print(found[0])
')
echo "packing $wasm"
rm -rf dist
mkdir -p dist
"$bindgen" --target web --no-typescript --out-dir dist/pkg "$wasm"
cp www/* dist/
echo "built $web/dist: $(du -cb dist/*.html dist/*.js dist/*.css dist/pkg/* | tail -1 | cut -f1) bytes, and the digits $(du -b dist/digits.png | cut -f1)"
