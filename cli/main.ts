/** Entry of `istio-mtls` (bin/istio-mtls.js): runs the command line against the process's streams. */
import { readFileSync } from "node:fs";
import { runCli } from "./program";

void runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stdin: () => readFileSync(0, "utf8"),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // Not an input or usage problem: a defect. Show the stack, exit like an uncaught error.
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  },
);
