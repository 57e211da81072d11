#!/usr/bin/env bash
# Packs what the GPU probe needs on the device machine, which has no network and gets only the working tree
# plus at most 64 MiB of carried ignored paths (docs/gpu.md): Deno's binary, node_modules as deno.lock pins
# it minus other platforms' binaries and unused onnxruntime-web builds, the npm registry metadata Deno
# resolves `npm:` imports through, and Debian's Vulkan loader (libvulkan1). Writes
# .carry/nersota-carry.tar.xz (git-ignored); run it in the checkout that travels, then name ".carry" in the
# device call's carry list. Options: --with-wasm also packs the plain wasm build (the `wasm` provider,
# 2.2 MB packed; the device run does not use it by default).
set -euo pipefail
cd "$(dirname "$0")/.."
DENO_VERSION=2.9.6
with_wasm=0
for a in "$@"; do
  case "$a" in
    --with-wasm) with_wasm=1 ;;
    *) echo "gpu_carry.sh: unknown option $a (known: --with-wasm)" >&2; exit 2 ;;
  esac
done
deno() { npx --yes "deno@$DENO_VERSION" "$@"; }

deno install >/dev/null 2>&1 || { deno install; exit 1; }
deno_bin=$(deno eval 'console.log(Deno.execPath())')
deno_dir=$(deno info --json | sed -n 's/.*"denoDir": *"\([^"]*\)".*/\1/p' | head -1)
[ -x "$deno_bin" ] || { echo "gpu_carry.sh: no Deno binary found (deno eval gave '$deno_bin')" >&2; exit 1; }
[ -d "$deno_dir/npm" ] || { echo "gpu_carry.sh: no npm cache in DENO_DIR '$deno_dir'" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/gl"
cp "$deno_bin" "$stage/bin/deno"
# Deno resolves npm: specifiers through the registry metadata even when node_modules is complete.
(cd "$deno_dir" && find npm -name registry.json) > "$stage/registry.list"
# onnxruntime-web: the node build (wasm provider) and the WebGPU bundle with its asyncify wasm, no maps;
# onnxruntime-node: linux/x64 only.
keep_web='/dist/(ort\.node\.min\.mjs|ort\.webgpu\.bundle\.min\.mjs|ort-wasm-simd-threaded\.asyncify\.(mjs|wasm)'
[ "$with_wasm" = 1 ] && keep_web+='|ort-wasm-simd-threaded\.(mjs|wasm)'
keep_web+=')$'
# Packages the probe imports keep their files; every other package (playwright-core, transformers.js, sharp,
# @types/node, …) keeps only its package.json, so the folder Deno expects is there without its weight.
needed='^node_modules/\.deno/(onnxruntime-(node|common|web)@1\.30\.0|protobufjs@8\.8\.1|@protobufjs\+[^/]*|long@[^/]*)/'
find node_modules \( -type f -o -type l \) |
  awk -v needed="$needed" '!/^node_modules\/\.deno\/[^/]+\/node_modules\/.+\// || $0 ~ needed || /\/package\.json$/ || system("test -L \"" $0 "\"") == 0' |
  grep -vE '/onnxruntime-node/bin/napi-v6/(darwin|win32|linux/arm64)/' |
  awk -v keep="$keep_web" '!/\/onnxruntime-web\/dist\// || $0 ~ keep' > "$stage/node_modules.list"
(cd "$stage/gl" && apt-get download libvulkan1 >/dev/null 2>&1) ||
  echo "gpu_carry.sh: could not download libvulkan1 (apt-get); the probe then relies on the machine's Vulkan loader" >&2

mkdir -p .carry
out=.carry/nersota-carry.tar.xz
tmp="$out.tmp-$$"
mkdir -p "$stage/deno_dir"
tar -cf - -C "$deno_dir" -T "$stage/registry.list" | tar -xf - -C "$stage/deno_dir"
tar -cf - -T "$stage/node_modules.list" | tar -xf - -C "$stage"
tar -cf - -C "$stage" bin gl deno_dir node_modules | xz -9 -T0 --block-size=64MiB > "$tmp"
mv "$tmp" "$out"

packed=$(stat -c %s "$out")
tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 -r stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}')
limit=$((64 * 1024 * 1024))
echo "gpu_carry.sh: $out $(numfmt --to=iec "$packed") ($(wc -l < "$stage/node_modules.list") node_modules entries, deno $("$deno_bin" --version | head -1 | cut -d' ' -f2)); working tree $(numfmt --to=iec "$tree"); together $(numfmt --to=iec $((packed + tree))) of the 64 MiB that travel"
if [ $((packed + tree)) -gt "$limit" ]; then
  echo "gpu_carry.sh: over 64 MiB: the device call would refuse it (drop --with-wasm, or untracked files)" >&2
  exit 1
fi
