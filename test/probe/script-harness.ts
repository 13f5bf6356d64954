/**
 * Runs the probe script the way the `sleep` container does: a POSIX shell whose PATH holds only
 * curl, sed, grep and tr (busybox's, like curlimages/curl, when /bin/busybox exists), with no
 * environment but what a test gives, and optionally on a read-only root filesystem.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, symlinkSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Shell {
  name: string;
  argv: string[];
  /** Where sed, grep and tr come from. */
  tools: "host" | "busybox";
}

const which = (cmd: string) => execFileSync("/bin/sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).trim();

export const SHELLS: Shell[] = [
  { name: "/bin/sh", argv: ["/bin/sh"], tools: "host" },
  { name: "bash --posix", argv: [which("bash"), "--posix"], tools: "host" },
  // The client image's shell and tools; CI installs busybox.
  ...(existsSync("/bin/busybox") ? [{ name: "busybox sh, sed, grep, tr", argv: ["/bin/busybox", "sh"], tools: "busybox" as const }] : []),
];

const toolDirs: Partial<Record<Shell["tools"], string>> = {};

/** A directory holding only curl, sed, grep and tr: the script may use nothing else. */
function toolDir(tools: Shell["tools"]): string {
  let dir = toolDirs[tools];
  if (!dir) {
    dir = toolDirs[tools] = mkdtempSync(join(tmpdir(), `probe-tools-${tools}-`));
    symlinkSync(which("curl"), join(dir, "curl"));
    for (const tool of ["sed", "grep", "tr"]) symlinkSync(tools === "busybox" ? "/bin/busybox" : which(tool), join(dir, tool));
  }
  return dir;
}

/** Whether this machine can run the read-only sandbox: a mount namespace needs root (CAP_SYS_ADMIN). */
export const CAN_SANDBOX = (() => {
  try {
    execFileSync("/usr/bin/unshare", ["-m", "--propagation", "private", "/usr/bin/mount", "--bind", "/", "/"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

// In a private mount namespace: /, and the usual writable places, read-only (as readOnlyRootFilesystem
// with no volume), checked before the script runs so that a writable sandbox cannot pass unnoticed.
const SANDBOX = `set -e
for d in / /tmp /var/tmp /dev/shm /run; do
  [ -d "$d" ] || continue
  /usr/bin/mount --bind "$d" "$d"
  /usr/bin/mount -o remount,bind,ro "$d"
done
for d in / /tmp /var/tmp /dev/shm /run; do
  [ -d "$d" ] || continue
  if (: > "$d/.probe-rw-check") 2>/dev/null; then echo "sandbox: $d is writable" >&2; exit 99; fi
done
exec "$@"`;

export interface RunScriptOptions {
  shell?: Shell;
  /** Added to the script's environment (which otherwise holds only PATH). */
  env?: Record<string, string>;
  readOnlyRoot?: boolean;
}

/** Runs `script`; resolves with stdout, rejects with stderr when it exits non-zero. */
export function runScript(script: string, options: RunScriptOptions = {}): Promise<string> {
  const shell = options.shell ?? SHELLS[0]!;
  const env = { PATH: toolDir(shell.tools), ...options.env };
  const argv = [...shell.argv, "-c", script];
  const [file, ...args] = options.readOnlyRoot ? ["/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c", SANDBOX, "sandbox", ...argv] : argv;
  return new Promise((resolve, reject) => {
    // No stdin, as an exec without -i: a socket there would make bash read ~/.bashrc (its remote-shell check).
    const child = spawn(file!, args, { env, stdio: ["ignore", "pipe", "pipe"], timeout: 20000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code, signal) => (code === 0 ? resolve(stdout) : reject(new Error(`${file} exited ${code ?? signal}\n${stderr}`))));
  });
}

export function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
}
