/**
 * First step of `npm test` (`npm run test:setup`): make sure the system packages the browser tests need are
 * there, so that `npm test` on a fresh Debian machine does not stop at its first browser test.
 *
 * - `chromium`: Debian's Chromium at /usr/bin/chromium drives every page check (check-dist, test/e2e/); the
 *   tests never download a browser. It also ships the SwiftShader Vulkan driver
 *   (/usr/lib/chromium/vk_swiftshader_icd.json) that the Node WebGPU tests (`npm run test:webgpu`) run on.
 * - `libvulkan1`: the Vulkan loader through which Dawn (the `webgpu` npm package) loads that driver.
 *
 * When one is missing and this process can use apt (root, apt-get on the PATH) it runs `apt-get update` and
 * `apt-get install -y` non-interactively, as CI does (.ci/run relies on this step). Otherwise it fails at once
 * with one line that gives the command to run. A package counts as present when dpkg says it is installed; on
 * a machine without dpkg, when its file is there (Chromium at CHROMIUM_PATH or /usr/bin/chromium,
 * libvulkan.so.1 in a library folder).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { pathToFileURL } from "node:url";

export const PACKAGES = ["chromium", "libvulkan1"] as const;

/** What the plan needs to know about the machine; injected so the plan is testable without root or apt. */
export interface SystemProbe {
  /** whether a Debian package (or, without dpkg, the file it provides) is present */
  installed(name: string): boolean;
  /** running as root, so apt-get may install */
  isRoot: boolean;
  /** apt-get is on the PATH */
  hasAptGet: boolean;
}

export type SetupPlan = { kind: "ready" } | { kind: "install"; packages: string[] } | { kind: "fail"; message: string };

/** The command a person runs to install the packages (with sudo when this process is not root). */
export function installCommand(packages: readonly string[], isRoot: boolean): string {
  const sudo = isRoot ? "" : "sudo ";
  return `${sudo}apt-get update && ${sudo}apt-get install -y ${packages.join(" ")}`;
}

export function planSetup(probe: SystemProbe, packages: readonly string[] = PACKAGES): SetupPlan {
  const missing = packages.filter((name) => !probe.installed(name));
  if (missing.length === 0) return { kind: "ready" };
  if (probe.isRoot && probe.hasAptGet) return { kind: "install", packages: missing };
  const need = `npm test needs the Debian package${missing.length > 1 ? "s" : ""} ${missing.join(" ")} (Chromium for the browser tests, the Vulkan loader for the WebGPU tests)`;
  const message = probe.hasAptGet
    ? `${need}; run: ${installCommand(missing, false)}`
    : `${need} and apt-get is not available: install ${missing.join(" and ")} with this system's package manager (or point CHROMIUM_PATH at a Chromium), then rerun npm test`;
  return { kind: "fail", message: `test:setup: ${message}` };
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

function hasCommand(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

/** Without dpkg: look for the file each package provides. */
function fileInstalled(name: string): boolean {
  if (name === "chromium") return existsSync(CHROMIUM);
  if (name === "libvulkan1") {
    const folders = ["/usr/lib", "/usr/lib64", "/lib", "/lib64"];
    for (const root of ["/usr/lib", "/lib"]) {
      try {
        for (const entry of readdirSync(root)) if (entry.endsWith("-linux-gnu")) folders.push(`${root}/${entry}`);
      } catch {
        // no such folder on this system
      }
    }
    return folders.some((folder) => existsSync(`${folder}/libvulkan.so.1`));
  }
  return false;
}

export function systemProbe(): SystemProbe {
  const dpkg = hasCommand("dpkg-query");
  return {
    installed: (name) => {
      if (!dpkg) return fileInstalled(name);
      const query = spawnSync("dpkg-query", ["-W", "-f=${Status}", name], { encoding: "utf8" });
      // A package removed but not purged reads "deinstall ok config-files": only "install ok installed" counts.
      if (query.status === 0 && query.stdout.trim() === "install ok installed") return true;
      // Chromium from elsewhere, pointed at by CHROMIUM_PATH, is fine too.
      return name === "chromium" && process.env.CHROMIUM_PATH !== undefined && existsSync(CHROMIUM);
    },
    isRoot: process.getuid?.() === 0,
    hasAptGet: hasCommand("apt-get"),
  };
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (result.status !== 0) {
    console.error(`test:setup: \`${command} ${args.join(" ")}\` failed (exit ${result.status ?? result.signal}); run it by hand and rerun npm test`);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const probe = systemProbe();
  const plan = planSetup(probe);
  if (plan.kind === "fail") {
    console.error(plan.message);
    process.exit(1);
  }
  if (plan.kind === "install") {
    console.log(`test:setup: installing ${plan.packages.join(" ")} with apt-get`);
    run("apt-get", ["update", "-qq"]);
    run("apt-get", ["install", "-y", "-qq", ...plan.packages]);
    const after = planSetup(probe);
    if (after.kind !== "ready") {
      console.error(`test:setup: apt-get installed ${plan.packages.join(" ")} but they are still not found`);
      process.exit(1);
    }
  }
}
