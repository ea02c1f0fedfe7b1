#!/usr/bin/env bash
# One conv layer (conv + bias + ReLU) and the digits network's training step, timed three ways
# on the same shapes, in alternating rounds:
#   `wgconv bench` (this crate, release build), `burn-digits conv` / `burn-digits step`
#   (bench/burn: Burn 0.22.1's wgpu backend with Autodiff, fusion and autotune; its own Cargo
#   project, outside the crate's dependency tree) and bench/torch_cpu_conv.py (PyTorch on the
#   CPU, one thread: there for honesty, not a GPU).
# Shapes (N,C,H,W,K,R,S,stride,pad): seed 1,1,24,24,2,5,5,1,0; mnist16 16,1,28,28,32,5,5,1,0;
# resnet56 1,64,56,56,64,3,3,1,1; resnet14 1,256,14,14,256,3,3,1,1; stem 1,3,224,224,64,7,7,2,3;
# and digits-k2, digits-k8: the digits network's step (conv 1→K 5×5 + ReLU, max-pool 2, linear
# 100K → 10, cross-entropy, SGD momentum 0.9; batch 64) on one random batch.
# Per layer shape: the forward pass, and the step = forward + MSE loss + dW, db, dX + SGD, for
# every tool (Burn's input is tracked so that its backward computes dX too).
# Timing: every tool by the wall clock per iteration, ended by a wait for the device: Burn a
# device sync after each iteration, wgconv `--timer wall` (recording, submission and wait of
# each repeat), PyTorch perf_counter around each call. wgconv is also run with its GPU
# timestamps (`--timer gpu`), an extra column; the ratio uses the wall clock. Each tool's median
# over ITERS iterations (wgconv: max(ITERS, 20) repeats, its minimum) after WARMUP untimed
# ones: Burn compiles and autotunes a shape's kernels at its first meeting, the warm-up keeps
# that out (CubeCL may also keep its autotune results on disk between runs).
# wgconv: `bench --shape` runs each kernel version (simple, tiled, window) as asked and does not
# read WGCONV_TUNE, so the table shows wgconv's best version per pass (the smallest median of
# simple, tiled and window, the winner named); the fused loop (tiny layers, a step without dX)
# is left out.
# The digits rows are `wgconv bench --network`'s whole step, the versions the crate's rules pick.
# Ratio: wgconv ÷ Burn, by the wall clock (≤ 1: wgconv is ahead). Medians over the rounds.
# Within a round, per shape, the tools run in an order rotated by one each round.
# Run by hand from anywhere (not a CI test: building Burn from nothing takes about 30 minutes on
# 2 cores; on lavapipe the big shapes take minutes per tool and round, wgconv's simple and
# tiled versions of resnet14 alone over 3 minutes with 20 repeats):
#   bash bench/conv_vs.sh
# KERNEL=simple|tiled|window: time only that wgconv version (default: every version; the tiled
# step of the stem takes minutes a repeat on lavapipe).
# ROUNDS=N (default 3); SHAPES="seed mnist16 resnet56 resnet14 stem digits-k2 digits-k8"
# (default: all; a subset in any order); ITERS=20; WARMUP=5; OUT_DIR keeps the logs (default:
# temp); TABLE_ONLY=1 with OUT_DIR (and the same ROUNDS, SHAPES) only prints the table of those
# logs. Builds both programs niced; wgconv runs with WGPU_BACKEND=vulkan (lavapipe here).
# burn-digits ignores WGPU_BACKEND (CubeCL picks the graphics API itself, Vulkan first on
# Linux); each tool's adapter line is listed under the table. A tool that fails on a shape is
# reported under the table (its log kept) and the run goes on.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${ROUNDS:-3}"
shapes="${SHAPES:-seed mnist16 resnet56 resnet14 stem digits-k2 digits-k8}"
iters="${ITERS:-20}"
warmup="${WARMUP:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
logs="${OUT_DIR:-$work/logs}"
mkdir -p "$logs"
export WGPU_BACKEND="${WGPU_BACKEND:-vulkan}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/xdg}"
mkdir -p "$XDG_RUNTIME_DIR"

declare -A dims=(
    [seed]=1,1,24,24,2,5,5,1,0
    [mnist16]=16,1,28,28,32,5,5,1,0
    [resnet56]=1,64,56,56,64,3,3,1,1
    [resnet14]=1,256,14,14,256,3,3,1,1
    [stem]=1,3,224,224,64,7,7,2,3
    [digits-k2]=network
    [digits-k8]=network
)
for s in $shapes; do
    [ -n "${dims[$s]:-}" ] || { echo "SHAPES: unknown shape $s (known: ${!dims[*]})" >&2; exit 2; }
done
for v in "$rounds" "$iters" "$warmup"; do
    [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS, ITERS and WARMUP take positive integers (got $v)" >&2; exit 2; }
done

if [ -z "${TABLE_ONLY:-}" ]; then
echo "building wgconv and burn-digits (release, nice -n 19) ..." >&2
(cd "$root" && nice -n 19 cargo build --release --quiet --bin wgconv)
(cd "$root/bench/burn" && nice -n 19 cargo build --release --quiet)
wgconv="$root/target/release/wgconv"
burn="$root/bench/burn/target/release/burn-digits"
repeats=$(( iters < 20 ? 20 : iters ))

# run TOOL SHAPE ROUND: its log in $logs/TOOL-SHAPE-rROUND.log (wgconv's JSON beside it); a
# failure leaves a .failed file beside the log.
run() {
    local tool="$1" shape="$2" r="$3" d="${dims[$2]}" base="$logs/$1-$2-r$3" k
    rm -f "$base.failed"
    k="${shape#digits-k}"
    if (
        case "$tool:$d" in
            wgconv-wall:network | wgconv-gpu:network)
                "$wgconv" bench --network --filters "$k" --batch 64 --repeats "$repeats" \
                    --warmup "$warmup" --timer "${tool#wgconv-}" ;;
            wgconv-wall:* | wgconv-gpu:*)
                rm -f "$base.json"
                "$wgconv" bench --shape "$d" --pass all --repeats "$repeats" --warmup "$warmup" \
                    --timer "${tool#wgconv-}" --json "$base.json" ${KERNEL:+--kernel "$KERNEL"} ;;
            burn:network) "$burn" step --filters "$k" --batch 64 --iters "$iters" --warmup "$warmup" ;;
            burn:*) "$burn" conv --shape "$d" --iters "$iters" --warmup "$warmup" ;;
            torch:network)
                python3 "$root/bench/torch_cpu_conv.py" step --filters "$k" --batch 64 \
                    --iters "$iters" --warmup "$warmup" ;;
            torch:*)
                python3 "$root/bench/torch_cpu_conv.py" conv --shape "$d" --iters "$iters" \
                    --warmup "$warmup" ;;
        esac
    ) > "$base.log" 2>&1; then
        echo "  $tool $shape round $r: $(grep -E '^(forward|step|whole step)|^[^ ]+ +(fwd|step) +(simple|tiled|window) ' "$base.log" \
            | awk '$3 == "simple" || $3 == "tiled" || $3 == "window" { print $2, $3, $4, "ms"; next } { print }' | tr -s ' ' | paste -sd ';' -)" >&2
    else
        touch "$base.failed"
        echo "  $tool $shape round $r FAILED (log: $base.log):" >&2
        tail -n 5 "$base.log" >&2
    fi
}

tools=(wgconv burn torch)
: > "$logs/uptime.log"
for r in $(seq 1 "$rounds"); do
    echo "round $r/$rounds: $(uptime)" | tee -a "$logs/uptime.log" >&2
    for shape in $shapes; do
        for i in 0 1 2; do
            tool="${tools[$(( (i + r - 1) % 3 ))]}"
            echo "round $r/$rounds, $shape: $tool" >&2
            if [ "$tool" = wgconv ]; then
                run wgconv-wall "$shape" "$r"
                run wgconv-gpu "$shape" "$r"
            else
                run "$tool" "$shape" "$r"
            fi
        done
    done
done
echo "end: $(uptime)" >> "$logs/uptime.log"
fi

python3 - "$logs" "$rounds" "$shapes" "$iters" "$warmup" <<'EOF'
import json, os, re, statistics, sys
logs, rounds, shapes, iters, warmup = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4], sys.argv[5]
dims = {"seed": "1,1,24,24,2,5,5,1,0", "mnist16": "16,1,28,28,32,5,5,1,0",
        "resnet56": "1,64,56,56,64,3,3,1,1", "resnet14": "1,256,14,14,256,3,3,1,1",
        "stem": "1,3,224,224,64,7,7,2,3", "digits-k2": "network", "digits-k8": "network"}
conv_line = re.compile(r"^forward: median ([0-9.]+) ms; step .*: median ([0-9.]+) ms")
step_line = re.compile(r"^step \(.*\): median ([0-9.]+) ms")
whole = re.compile(r"^whole step \(Sequential \+ SGD\)\s+\S+\s+([0-9.]+)\s+[0-9.]+\s+(.+)$")
adapters, failed, missing, timers = {}, [], [], {}
med = statistics.median


def read(tool, shape, r):
    """The lines of one log; None (and noted) when it failed or is missing."""
    base = f"{logs}/{tool}-{shape}-r{r}"
    if os.path.exists(base + ".failed"):
        failed.append(f"{tool} {shape} round {r} ({base}.log)")
        return None
    if not os.path.exists(base + ".log"):
        missing.append(f"{tool} {shape} round {r}")
        return None
    lines = open(base + ".log").read().splitlines()
    for l in lines:
        if l.startswith("adapter:"):
            adapters[tool.split("-")[0]] = l
        if l.startswith("PyTorch "):
            adapters[tool] = l.split(",")[0] + ", " + l.split(",")[1].strip()
    return lines


def wgconv(shape, clock):
    """{pass: (median over rounds, kernel)}: per version the median over rounds, then the
    faster version (the fused loop, without dX, left out)."""
    per = {}  # (pass, kernel) -> [ms per round]
    for r in range(1, rounds + 1):
        tool = f"wgconv-{clock}"
        lines = read(tool, shape, r)
        if lines is None:
            continue
        if dims[shape] == "network":
            for l in lines:
                m = whole.match(l)
                if m:
                    per.setdefault(("step", "crate's rules"), []).append(float(m.group(1)))
                    timers[tool] = m.group(2).strip()
            continue
        doc = json.load(open(f"{logs}/{tool}-{shape}-r{r}.json"))
        timers[tool] = doc["timer"]
        for res in doc["results"]:
            if res["includes_dx"] and res["pass"] in ("fwd", "step"):
                per.setdefault((res["pass"], res["kernel"]), []).append(res["median_ms"])
    best = {}
    for (p, kernel), times in per.items():
        m = med(times)
        if p not in best or m < best[p][0]:
            best[p] = (m, kernel)
    return best


def other(tool, shape):
    """{pass: median over rounds} of burn or torch."""
    fwd, step = [], []
    for r in range(1, rounds + 1):
        lines = read(tool, shape, r)
        for l in lines or []:
            m = conv_line.match(l)
            if m:
                fwd.append(float(m.group(1)))
                step.append(float(m.group(2)))
            m = step_line.match(l)
            if m:
                step.append(float(m.group(1)))
    return {p: med(v) for p, v in (("fwd", fwd), ("step", step)) if v}


def ms(v):
    return "—" if v is None else f"{v:.3f}"


def versioned(best, p):
    return f"{best[p][0]:.3f} ({best[p][1]})" if p in best else "—"


def ratio(best, b, p):
    return f"{best[p][0] / b[p]:.2f}" if p in best and p in b else "—"


print("| shape (N,C,H,W,K,R,S,stride,pad) | wgconv fwd ms, wall (version) | wgconv fwd ms, GPU timestamps | Burn fwd ms | "
      "fwd: wgconv ÷ Burn (≤ 1 is ahead) | wgconv step ms, wall (version) | wgconv step ms, GPU timestamps | Burn step ms | "
      "step: wgconv ÷ Burn (≤ 1 is ahead) | PyTorch CPU fwd ms | PyTorch CPU step ms |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for shape in shapes:
    wall, gpu = wgconv(shape, "wall"), wgconv(shape, "gpu")
    b, t = other("burn", shape), other("torch", shape)
    label = f"{shape} ({dims[shape]})" if dims[shape] != "network" else f"{shape}: digits network step, batch 64"
    print(f"| {label} | {versioned(wall, 'fwd')} | {versioned(gpu, 'fwd')} | {ms(b.get('fwd'))} | {ratio(wall, b, 'fwd')} | "
          f"{versioned(wall, 'step')} | {versioned(gpu, 'step')} | {ms(b.get('step'))} | {ratio(wall, b, 'step')} | "
          f"{ms(t.get('fwd'))} | {ms(t.get('step'))} |")
print()
print(f"- {rounds} round(s); per tool the median over ITERS={iters} iterations (wgconv: max(ITERS, 20) repeats) "
      f"after WARMUP={warmup} untimed ones, then the median over the rounds")
print("- step: forward + loss + dW, db, dX + SGD (digits rows: the network's forward, cross-entropy, backward, SGD momentum)")
kernel = os.environ.get("KERNEL")
versions = f"{kernel} only (KERNEL={kernel})" if kernel else "the fastest of simple, tiled and window per pass"
print(f"- wgconv's version: {versions} (`bench --shape` does not read WGCONV_TUNE); "
      "the fused loop left out (no dX); digits rows: the versions the crate's rules pick")
for tool, line in sorted(adapters.items()):
    print(f"- {tool}: {line}")
for tool, line in sorted(timers.items()):
    print(f"- {tool} timer: {line}")
if os.path.exists(f"{logs}/uptime.log"):
    for l in open(f"{logs}/uptime.log").read().splitlines():
        print(f"- load: {l.strip()}")
for f in failed:
    print(f"- FAILED: {f}")
for m in missing:
    print(f"- no log: {m}")
EOF
