/**
 * `npm run bench:train -- --package DIR`: the Node WebGPU bench as a self-contained folder for a machine with a
 * GPU but no npm, no node_modules and no internet:
 *
 *   bench-train.mjs   the esbuild bundle of node-main.ts (TF.js, its WebGPU backend and the sCM Lab library)
 *   dawn.node.xz      node_modules/webgpu/dist/linux-x64/dawn.node (Dawn, WebGPU for Node), xz -9
 *   node.xz           this machine's node binary, xz -9, used only when the target has no node ≥ 18
 *   lib/libvulkan.so.1  the Khronos Vulkan loader, used only when the target has none (Dawn dlopens it)
 *   run.sh            unpacks what it needs and runs the bench; arguments go to the bench
 *
 * Both binaries are compressed so that the whole folder stays near 30 MB (dawn.node alone is 21 MB, node 99 MB).
 * Linux x86-64 only (dawn.node and node are native).
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { bundleNode } from "./bundle.ts";

const DAWN = resolve("node_modules/webgpu/dist/linux-x64/dawn.node");
const VULKAN_LOADERS = ["/usr/lib/x86_64-linux-gnu/libvulkan.so.1", "/lib/x86_64-linux-gnu/libvulkan.so.1", "/usr/lib64/libvulkan.so.1"];

const RUN_SH = `#!/bin/sh
# sCM Lab bench:train on this machine's GPU through WebGPU (Dawn on Vulkan), without npm or internet.
#   sh run.sh                                  # tiny preset, batch 4, 32x32: a first look
#   sh run.sh --preset small --batch 64 --steps 20 --warmup 3
#   sh run.sh --preset base --batch 128 --steps 20 --warmup 3
# Options go to the bench: --preset tiny|small|base --batch B --steps N --warmup W --resolution 32 --backend webgpu|cpu
# Environment: NODE=/path/to/node (else node on PATH if >= 18, else node.xz); VK_ICD_FILENAMES picks a Vulkan driver.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)

unxz_to() { # unxz_to FILE.xz OUT
  if command -v xz >/dev/null 2>&1; then xz -d -c "$1" > "$2.part"
  elif command -v python3 >/dev/null 2>&1; then python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2.part"
  else echo "run.sh: need xz or python3 to unpack $1" >&2; exit 1; fi
  chmod +x "$2.part" && mv "$2.part" "$2"
}

WORK="$HERE/unpacked"
if ! mkdir -p "$WORK" 2>/dev/null || ! [ -w "$WORK" ]; then WORK=$(mktemp -d); fi

NODE_BIN="\${NODE:-}"
if [ -z "$NODE_BIN" ] && command -v node >/dev/null 2>&1 && node -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)' 2>/dev/null; then NODE_BIN=node; fi
if [ -z "$NODE_BIN" ]; then
  [ -x "$WORK/node" ] || { echo "run.sh: unpacking node" >&2; unxz_to "$HERE/node.xz" "$WORK/node"; }
  NODE_BIN="$WORK/node"
fi
[ -f "$WORK/dawn.node" ] || unxz_to "$HERE/dawn.node.xz" "$WORK/dawn.node"

# Dawn dlopens libvulkan.so.1; bring the packaged loader only if the system has none.
if ! (ldconfig -p 2>/dev/null | grep -q 'libvulkan\\.so\\.1') && ! [ -e /usr/lib/x86_64-linux-gnu/libvulkan.so.1 ] && ! [ -e /usr/lib64/libvulkan.so.1 ]; then
  echo "run.sh: no system libvulkan.so.1, using the packaged loader" >&2
  LD_LIBRARY_PATH="$HERE/lib\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; export LD_LIBRARY_PATH
fi
{
  echo "# node $("$NODE_BIN" --version) on $(uname -m), $(nproc 2>/dev/null || echo '?') cores"
  command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/# nvidia-smi: /' || true
  echo "# Vulkan drivers: $(ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null | grep json | tr '\\n' ' ')\${VK_ICD_FILENAMES:+ (VK_ICD_FILENAMES=$VK_ICD_FILENAMES)}"
} >&2
DAWN_NODE="$WORK/dawn.node" exec "$NODE_BIN" "$HERE/bench-train.mjs" --backend webgpu "$@"
`;

function xz(from: string, to: string): void {
  execFileSync("sh", ["-c", 'xz -9 -T0 -c "$1" > "$2"', "xz", from, to], { stdio: ["ignore", "ignore", "inherit"] });
}

/** Write the package into `dir` (replacing what a previous run wrote there); returns its files and sizes. */
export async function writeGpuPackage(dir: string, log: (line: string) => void): Promise<{ name: string; bytes: number }[]> {
  if (process.platform !== "linux" || process.arch !== "x64") throw new Error("the GPU package is made for Linux x86-64 (dawn.node and node are native): run it on such a machine");
  if (!existsSync(DAWN)) throw new Error(`${DAWN} is missing: npm install`);
  const loader = VULKAN_LOADERS.find((p) => existsSync(p));
  dir = resolve(dir);
  for (const name of ["bench-train.mjs", "dawn.node.xz", "node.xz", "run.sh", "lib", "unpacked"]) rmSync(join(dir, name), { recursive: true, force: true });
  mkdirSync(join(dir, "lib"), { recursive: true });
  log(`bundling ${join(dir, "bench-train.mjs")}`);
  await bundleNode(join(dir, "bench-train.mjs"), { minify: true });
  log("compressing dawn.node (xz -9)");
  xz(DAWN, join(dir, "dawn.node.xz"));
  log(`compressing ${process.execPath} (xz -9, about a minute on 2 cores)`);
  xz(process.execPath, join(dir, "node.xz"));
  if (loader) copyFileSync(loader, join(dir, "lib", "libvulkan.so.1"));
  else log("no libvulkan.so.1 here to package: the target must have its own Vulkan loader");
  writeFileSync(join(dir, "run.sh"), RUN_SH);
  chmodSync(join(dir, "run.sh"), 0o755);
  const files: { name: string; bytes: number }[] = [];
  const walk = (sub: string) => {
    for (const name of readdirSync(join(dir, sub))) {
      const path = join(dir, sub, name);
      if (statSync(path).isDirectory()) walk(join(sub, name));
      else files.push({ name: join(sub, name), bytes: statSync(path).size });
    }
  };
  walk("");
  return files;
}
