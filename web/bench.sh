#!/usr/bin/env bash
# A benchmark run by hand (not a test; web/test.sh does not run it): in headless Chromium with
# WebGPU, wgconv's page against tfjs-webgpu 4.22 —
#   - page open → first GPU maps (section 1), in fresh browsers;
#   - the live forward (ms a call): section 1's wg.forward against tf.fused.conv2d + ReLU and
#     conv2d + bias + ReLU with their readbacks, same 24×24 image and two 5×5 filters;
#   - the digits network's training step (steps/s), wgconv's (web/src/digits.rs) against the
#     same network in tfjs (conv 1→K 5×5 + ReLU → max-pool 2 → dense 10, softmax cross-entropy,
#     SGD momentum 0.9, lr 0.05, batch 64, the page's training digits);
#   - the page's section 5: Train → 90 % test accuracy.
# Prints one table (stdout; progress on stderr). Usage:
#   bash web/bench.sh [--no-build] [--opens N] [--k K] [--forwards N] [--specialize on|off]
#                     [--no-page-digits] [--json FILE]
# It builds the page (web/build.sh, unless --no-build) and installs tfjs 4.22 into
# web/node_modules when missing (`npm install --no-save`: package.json stays puppeteer-core
# alone, so web/test.sh's `npm ci` removes it again; node_modules is git-ignored). The pages get
# everything from a server on 127.0.0.1 serving web/: nothing from the internet at page time.
set -euo pipefail
web=$(cd "$(dirname "$0")" && pwd)
cd "$web"
build=1
args=()
for a in "$@"; do
    if [ "$a" = --no-build ]; then build=0; else args+=("$a"); fi
done
[ "$build" = 1 ] && bash "$web/build.sh" >&2
[ -f dist/index.html ] || { echo "bench.sh: no web/dist (run web/build.sh)" >&2; exit 2; }
[ -d node_modules/puppeteer-core ] || PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2
if [ ! -f node_modules/@tensorflow/tfjs/dist/tf.min.js ] || [ ! -f node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js ]; then
    echo "bench.sh: installing tfjs 4.22 into web/node_modules (--no-save)" >&2
    npm install --no-save --no-audit --no-fund --loglevel=error \
        @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-webgpu@4.22.0 >&2
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp/xdg-$(id -u)}
mkdir -m 700 -p "$XDG_RUNTIME_DIR"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server -d "$web" "$port" --bind 127.0.0.1 >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null && break
    sleep 0.1
done
echo "bench.sh: $(uptime)" >&2
node bench/bench.mjs --url "http://127.0.0.1:$port/" --chromium "$(command -v chromium)" ${args[@]+"${args[@]}"} \
    2> >(grep --line-buffered -v -i dbus >&2)
