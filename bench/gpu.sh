#!/usr/bin/env bash
# The whole GPU-machine check in one call (well under 5 minutes): run from the repository root
# on the lent NVIDIA machine, after bench/prepare_carry.sh here and with target/gpu-carry carried:
#   device run: bash bench/gpu.sh            (carry: ["target/gpu-carry"])
# Results go to $OUT (the device tool's output folder), or ./gpu-results.
set -uo pipefail
out="${OUT:-$PWD/gpu-results}"
mkdir -p "$out"
# The machine's ICD file points at a library that does not work headless; EGL's does.
printf '{"file_format_version":"1.0.0","ICD":{"library_path":"/usr/lib/libEGL_nvidia.so.0","api_version":"1.3.0"}}' > /tmp/nv_icd.json
export LD_LIBRARY_PATH="$PWD/target/gpu-carry" VK_DRIVER_FILES=/tmp/nv_icd.json VK_ICD_FILENAMES=/tmp/nv_icd.json WGPU_BACKEND=vulkan
bin="$PWD/target/gpu-carry/wgconv"
# fp32 matmul ceiling measured on the H200 with TF32 off (../shared/anchors-h200.md).
peak="${PEAK_TFLOPS:-50.5}"

{ date -u; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; } > "$out/device.txt" 2>&1
"$bin" info > "$out/info.txt" 2>&1 || { cat "$out/info.txt"; exit 1; }
timeout 60 "$bin" --require-gpu check --cases 300 > "$out/check.txt" 2>&1; echo "check exit $?" >> "$out/check.txt"
timeout 150 "$bin" --require-gpu bench --peak-tflops "$peak" --json "$out/ours.json" > "$out/ours.txt" 2>&1
echo "bench exit $?" >> "$out/ours.txt"
timeout 30 "$bin" --require-gpu bench --shapes seed --pass step --inner 1000 --json "$out/ours_seed_loop.json" > "$out/ours_seed_loop.txt" 2>&1
timeout 90 python3 bench/torch_ref.py --json "$out/torch.json" > "$out/torch.txt" 2>&1
python3 bench/compare.py "$out/ours.json" "$out/ours_seed_loop.json" --torch "$out/torch.json" --peak-tflops "$peak" > "$out/table.md" 2>&1
cat "$out/device.txt" "$out/info.txt" "$out/ours.txt" "$out/ours_seed_loop.txt" "$out/torch.txt" "$out/table.md"
tail -n 2 "$out/check.txt"
