#!/usr/bin/env bash
# The GPU probe's entry on a machine with an accelerator (docs/gpu.md): finds Deno (or unpacks it and the npm
# packages from .carry/nersota-carry.tar.xz, made by bench/gpu_carry.sh), makes a Vulkan loader and the NVIDIA
# ICD visible to Deno's WebGPU, then runs bench/gpu_probe.ts under a hard time limit. Writes
# $OUT/gpu_probe.json (partial if stopped) and $OUT/gpu_probe.log; arguments go to bench/gpu_probe.ts.
#
#   OUT=/tmp/probe bash bench/gpu_probe.sh            # ELECTRA-small, at most GPU_PROBE_LIMIT_S (470) seconds
#   OUT=/tmp/probe bash bench/gpu_probe.sh --fast     # tiny model, about a minute on 2 CPU cores
#
# Environment: OUT (report folder; default a new temporary one), GPU_PROBE_LIMIT_S (whole script),
# NERSOTA_DENO (a Deno binary to use), NERSOTA_ORT_CUDA_DIR (a folder holding onnxruntime-node 1.30's CUDA
# provider libraries, libonnxruntime_providers_{shared,cuda}.so, copied beside libonnxruntime.so.1).
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
limit=${GPU_PROBE_LIMIT_S:-470}
OUT=${OUT:-$(mktemp -d -t nersota-gpu-probe-XXXXXX)}
export OUT
mkdir -p "$OUT"
log="$OUT/gpu_probe.log"
: > "$log"
note() { echo "[gpu_probe.sh] $*" | tee -a "$log" >&2; }
DENO_VERSION=2.9.6
export DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1

# 1. Deno and the npm packages: given, carried, on PATH, or from npm (needs the registry).
deno_cmd=()
carry=.carry/nersota-carry.tar.xz
unpacked=/tmp/nersota-carry
if [ -n "${NERSOTA_DENO:-}" ]; then
  deno_cmd=("$NERSOTA_DENO")
elif [ -f "$carry" ]; then
  if [ ! -x "$unpacked/bin/deno" ]; then
    mkdir -p "$unpacked"
    # tar needs xz for -J; Python's tarfile reads xz by itself.
    tar -xJf "$carry" -C "$unpacked" 2>>"$log" ||
      python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$carry" "$unpacked" ||
      note "cannot unpack $carry"
  fi
  if [ -x "$unpacked/bin/deno" ]; then
    deno_cmd=("$unpacked/bin/deno")
    export DENO_DIR=${DENO_DIR:-$unpacked/deno_dir}
    if [ ! -e node_modules/onnxruntime-node ] && [ -d "$unpacked/node_modules" ]; then
      rm -rf node_modules && cp -a "$unpacked/node_modules" node_modules
    fi
    note "using the carried Deno ($("$unpacked/bin/deno" --version | head -1)), DENO_DIR=$DENO_DIR"
  fi
fi
if [ ${#deno_cmd[@]} -eq 0 ] && command -v deno >/dev/null; then deno_cmd=(deno); fi
if [ ${#deno_cmd[@]} -eq 0 ] && command -v npx >/dev/null; then deno_cmd=(npx --yes "deno@$DENO_VERSION"); fi
if [ ${#deno_cmd[@]} -eq 0 ] || ! "${deno_cmd[@]}" --version >/dev/null 2>&1; then
  # No Deno: still leave a report, with what nvidia-smi says.
  smi=$(timeout 20 nvidia-smi 2>&1 || true)
  python3 - "$OUT/gpu_probe.json" "$smi" <<'EOF' || echo '{"format": "nersota-gpu-probe/1", "complete": false, "error": "no Deno"}' > "$OUT/gpu_probe.json"
import json, sys
json.dump({"format": "nersota-gpu-probe/1", "complete": False,
           "error": "no Deno: neither NERSOTA_DENO, .carry/nersota-carry.tar.xz (bench/gpu_carry.sh), deno on PATH nor npx worked",
           "nvidia_smi_text": sys.argv[2]}, open(sys.argv[1], "w"), indent=2)
EOF
  note "no Deno found; wrote $OUT/gpu_probe.json with nvidia-smi's output only"
  exit 1
fi
if [ ! -e node_modules/onnxruntime-node ]; then
  note "node_modules is missing: deno install (needs the npm registry)"
  "${deno_cmd[@]}" install >>"$log" 2>&1 || note "deno install failed"
fi

# 2. Vulkan: a loader (libvulkan.so.1) and an ICD for Deno's WebGPU (wgpu).
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
  deb=$(ls "$unpacked"/gl/libvulkan1_*.deb 2>/dev/null | head -1)
  if [ -n "$deb" ]; then
    # Unpacked beside the carry, not into /: the loader is found through LD_LIBRARY_PATH.
    dpkg-deb -x "$deb" "$unpacked/gl/root" 2>>"$log" || (cd "$unpacked/gl" && ar x "$deb" data.tar.xz && mkdir -p root && tar -xJf data.tar.xz -C root)
    lib=$(dirname "$(find "$unpacked/gl/root" -name 'libvulkan.so.1' | head -1)")
    [ -n "$lib" ] && export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" && note "Vulkan loader from the carried libvulkan1: $lib"
  else
    note "no Vulkan loader (libvulkan.so.1) on this machine and none carried"
  fi
fi
nv_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$nv_icd" ] && [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] &&
  ! grep -lqs nvidia /etc/vulkan/icd.d/*.json /usr/share/vulkan/icd.d/*.json /usr/local/share/vulkan/icd.d/*.json; then
  export VK_DRIVER_FILES=$nv_icd VK_ICD_FILENAMES=$nv_icd
  note "NVIDIA Vulkan ICD: $nv_icd"
fi
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [ -d "$d" ] && case ":${LD_LIBRARY_PATH:-}:" in *":$d:"*) ;; *) export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d" ;; esac
done

# 3. ONNX Runtime's CUDA provider libraries, when a folder of them is given (npm ships none: docs/gpu.md).
if [ -n "${NERSOTA_ORT_CUDA_DIR:-}" ]; then
  bin=node_modules/onnxruntime-node/bin/napi-v6/linux/x64
  for f in libonnxruntime_providers_shared.so libonnxruntime_providers_cuda.so libonnxruntime_providers_tensorrt.so; do
    [ -f "$NERSOTA_ORT_CUDA_DIR/$f" ] && [ ! -e "$bin/$f" ] && cp "$NERSOTA_ORT_CUDA_DIR/$f" "$bin/" && note "copied $f"
  done
fi

# 4. The probe, within what is left of the limit (its own budget ends earlier; this is the backstop).
left=$((limit - ($(date +%s) - start) - 5))
if [ "$left" -lt 30 ]; then
  note "only ${left}s left of GPU_PROBE_LIMIT_S=$limit after setup"
  exit 1
fi
export NERSOTA_PROBE_DEADLINE_MS=$(( ($(date +%s) + left - 15) * 1000 ))
note "running bench/gpu_probe.ts $* (hard limit ${left}s)"
timeout -k 10 "$left" "${deno_cmd[@]}" run -A bench/gpu_probe.ts --out "$OUT/gpu_probe.json" "$@" 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}
[ "$status" -eq 124 ] || [ "$status" -eq 137 ] && note "stopped at the hard limit: $OUT/gpu_probe.json holds what was measured"
exit "$status"
