/**
 * The `istio-mtls` program and its error handling. Its commands, one module each in cli/commands/,
 * report their exit code; the input and usage errors `predict` and `diff` throw, runCli prints
 * (`plan` prints its own). `predict` prints the connectivity matrix the model predicts for a set of
 * manifests, `diff` the cells that change between two sets, `plan` what a stack deploys, planned
 * from its config by planStack (mesh/plan.ts) without the Pulumi runtime: its resources, matrix
 * and policy findings, or (--format yaml) the objects it applies.
 *
 * `predict --kube` reads a live cluster's objects instead of files (cli/kube-input.ts); `verify
 * --kube` predicts them and probes the cluster from its probe clients.
 *
 * Exit codes: 0 success (also for `diff` with changes, unless --exit-code), 1 `diff --exit-code`
 * found changes (or `plan` findings at its --fail-on level, or `verify` cells that differ), 2
 * invalid usage or input, or a cluster that cannot be read or probed (the message on stderr says
 * what and where).
 */
import { Command, CommanderError } from "commander";
import { ModelInputError } from "../mesh/predict";
import { SourceError, SourceErrors } from "../mesh/yaml";
import { isClusterReadError } from "../probe/cluster-read";
import { EXIT_INVALID, EXIT_OK, PLAN_SUMMARY, UsageError, type CliIO } from "./command";
import { registerDiffCommand } from "./commands/diff";
import { registerPredictCommand } from "./commands/predict";
import { registerVerifyCommand } from "./commands/verify";

/** Shown in `istio-mtls --help`; the real command (cli/commands/plan.ts) is loaded only when `plan` runs. */

/**
 * `plan` runs the policy pack: its modules take about a second to load, which `predict` and
 * `diff` should not pay.
 */
function addPlan(program: Command, argv: readonly string[], io: CliIO, setExit: (code: number) => void): void {
  const runsPlan = argv[0] === "plan" || (argv[0] === "help" && argv[1] === "plan");
  if (!runsPlan) {
    program.command("plan").description(PLAN_SUMMARY);
    return;
  }
  const { registerPlanCommand } = require("./commands/plan") as typeof import("./commands/plan");
  registerPlanCommand(program, io, setExit);
}

function buildProgram(argv: readonly string[], io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command("istio-mtls")
    .description("Predict the Istio mTLS connectivity matrix (sleep.X → httpbin.Y) of Kubernetes manifests")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError("(run with --help for usage)");
  registerPredictCommand(program, io, setExit);
  registerDiffCommand(program, io, setExit);
  registerVerifyCommand(program, io, setExit);
  addPlan(program, argv, io, setExit);
  return program;
}

/** Runs the command line `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  let code = EXIT_OK;
  const program = buildProgram(argv, io, (c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_OK : EXIT_INVALID;
    if (e instanceof SourceErrors) {
      for (const err of e.errors) io.stderr(`error: ${err.message}\n`);
      if (e.errors.length > 1) io.stderr(`${e.errors.length} errors; nothing predicted\n`);
      return EXIT_INVALID;
    }
    if (e instanceof SourceError || e instanceof ModelInputError || e instanceof UsageError || isClusterReadError(e)) {
      io.stderr(`error: ${e.message}\n`);
      return EXIT_INVALID;
    }
    throw e;
  }
}
