/** Entry of `istio-mtls` (bin/istio-mtls.js): runs the command line against the process's streams. */
import { readFileSync } from "node:fs";
import { runCli } from "./program";

process.exitCode = runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stdin: () => readFileSync(0, "utf8"),
});
