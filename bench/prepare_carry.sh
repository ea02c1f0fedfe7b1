#!/usr/bin/env bash
# Run here (not on the GPU machine): builds the release binary and puts it, with the Vulkan
# loader the GPU machine lacks, in target/gpu-carry/ for the device tool's `carry`.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! ldconfig -p | grep -q 'libvulkan\.so\.1'; then
  apt-get update -qq && apt-get install -y -qq libvulkan1 >/dev/null
fi
cargo build --release
mkdir -p target/gpu-carry
cp target/release/wgconv target/gpu-carry/
cp -L /usr/lib/x86_64-linux-gnu/libvulkan.so.1 target/gpu-carry/
ls -la target/gpu-carry
