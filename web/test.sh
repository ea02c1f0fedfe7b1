#!/usr/bin/env bash
# The page's browser tests, from a fresh Debian machine (run as root, or with sudo for apt-get):
#   1. installs what is missing: chromium, Node's npm, Mesa's lavapipe (for `wgconv demo`),
#      Noto CJK fonts (fonts-noto-cjk, so that the Japanese page's screenshots show Japanese),
#      rustup's wasm32-unknown-unknown target, wasm-bindgen-cli pinned to web/Cargo.lock's
#      wasm-bindgen (built once into ${WGCONV_WEB_TOOLS:-$HOME/.cache/wgconv-web}/wasm-bindgen-cli-VERSION
#      and reused), and puppeteer-core from web/package-lock.json (npm ci);
#   2. builds the page (web/build.sh), checks that build.sh honours CARGO_TARGET_DIR
#      (web/tests/target-dir.sh), and runs `wgconv demo` for the numbers of c¹₁,₁;
#   3. serves web/dist on 127.0.0.1 (a free port) and drives headless Chromium with WebGPU
#      (web/tests/page.test.mjs): the ?selftest page passes; drawing with pointer events changes
#      the maps; hovering c¹₁,₁ shows `wgconv demo`'s numbers; the check button finds nothing over
#      its bound; training gets the loss under 1e-6 within 400 steps; phone width; and, in a
#      Chromium without WebGPU, the fallback on the CPU reference; the page in English and in
#      Japanese (?lang=en, ?lang=ja, and Accept-Language ja without ?lang), no English left on the
#      Japanese page, the language switch, and every text id in both tables of web/www/i18n.js.
# Screenshots of every section go to ${WGCONV_WEB_SHOTS:-web/screenshots}. Exit status 0 only
# when every check passed; a page that gets no WebGPU adapter fails, saying why.
set -euo pipefail
web=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$web")
shots=${WGCONV_WEB_SHOTS:-$web/screenshots}
tools=${WGCONV_WEB_TOOLS:-$HOME/.cache/wgconv-web}
started=$SECONDS
say() { echo "web/test.sh: $*"; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else say "need root to run: $*"; exit 2
    fi
}

# apt packages for the commands that are missing.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v npm >/dev/null || missing+=(npm)
command -v node >/dev/null || missing+=(nodejs)
command -v python3 >/dev/null || missing+=(python3)
# Japanese glyphs for the ?lang=ja screenshots (the page ships no font: it uses the browser's).
[ -n "$(fc-list 'Noto Sans CJK JP' family 2>/dev/null)" ] || missing+=(fonts-noto-cjk)
[ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] || ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 \
    || missing+=(mesa-vulkan-drivers libvulkan1)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get install -y "${missing[@]}" || { as_root apt-get update && as_root apt-get install -y "${missing[@]}"; }
fi
chromium=$(command -v chromium)

# Rust: the wasm target and the pinned wasm-bindgen-cli.
if ! command -v rustup >/dev/null || ! command -v cargo >/dev/null; then
    say "needs Rust through rustup (https://rustup.rs); Debian's own Rust is too old for wgpu 30"
    exit 2
fi
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi
version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' "$web/Cargo.lock")
bindgen_root="$tools/wasm-bindgen-cli-$version"
if [ ! -x "$bindgen_root/bin/wasm-bindgen" ]; then
    say "building wasm-bindgen-cli $version into $bindgen_root (once; about 6 minutes)"
    mkdir -p "$tools"
    cargo install wasm-bindgen-cli --version "$version" --locked --root "$bindgen_root" \
        || cargo install wasm-bindgen-cli --version "$version" --root "$bindgen_root"
fi
export WASM_BINDGEN="$bindgen_root/bin/wasm-bindgen"

# puppeteer-core, exactly as locked (no browser download: it drives the system's chromium).
(cd "$web" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)

# Build the page (page and wasm together under 2 MB), and the numbers `wgconv demo` prints for
# c¹₁,₁.
bash "$web/build.sh"
bytes=$(cat "$web"/dist/*.html "$web"/dist/*.css "$web"/dist/*.js "$web"/dist/pkg/* | wc -c)
if [ "$bytes" -gt 2000000 ]; then
    say "FAIL: the page and its wasm are $bytes bytes, over 2 MB"
    exit 1
fi
say "page size: $bytes bytes (html, css, js, wasm)"
# build.sh with CARGO_TARGET_DIR set packs the .wasm under it (a copy of this build; seconds).
bash "$web/tests/target-dir.sh"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp/xdg-$(id -u)}
mkdir -m 700 -p "$XDG_RUNTIME_DIR"
tmp=$(mktemp -d)
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
(cd "$root" && cargo run --release --quiet -- demo --out "$tmp/demo") > "$tmp/demo.txt"

# Serve on a free port of 127.0.0.1.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server -d "$web/dist" "$port" --bind 127.0.0.1 >"$tmp/http.log" 2>&1 &
server=$!
for _ in $(seq 50); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null && break
    sleep 0.1
done

say "testing in $("$chromium" --version 2>/dev/null | head -1)"
rm -rf "$shots"
status=0
(cd "$web" && node tests/page.test.mjs --url "http://127.0.0.1:$port/" --demo "$tmp/demo.txt" \
    --shots "$shots" --chromium "$chromium") 2> >(grep -v -i 'dbus' >&2) || status=$?
say "done in $((SECONDS - started)) s (exit $status)"
exit $status
