/** `istio-mtls diff`: the cells whose predicted outcome changes between two sets of manifests. */
import type { Command } from "commander";
import { diffPredictions, formatDiff, type MatrixFormat } from "../../mesh/matrix";
import { EXIT_CHANGES, EXIT_OK, UsageError, type CliIO } from "../command";
import { addInputOptions, formatOption, predictPaths, type InputOptions } from "../matrix-input";

export type DiffOptions = InputOptions & { format: MatrixFormat; exitCode?: boolean; common: string[] };

/** Prints the changed cells; 1 when some cell changes and --exit-code asks for it. */
export function runDiff(oldPath: string, newPath: string, opts: DiffOptions, io: CliIO): number {
  if (oldPath === "-" && newPath === "-") throw new UsageError("diff: OLD and NEW cannot both be - (standard input)");
  if (opts.common.includes("-")) throw new UsageError("diff: --common cannot be - (standard input is read once)");
  const before = predictPaths([...opts.common, oldPath], opts, io, "OLD");
  const after = predictPaths([...opts.common, newPath], opts, io, "NEW");
  const d = diffPredictions(before, after);
  io.stdout(formatDiff(d, opts.format));
  return opts.exitCode && d.changes.length > 0 ? EXIT_CHANGES : EXIT_OK;
}

export function registerDiffCommand(program: Command, io: CliIO, setExit: (code: number) => void): Command {
  return addInputOptions(
    program
      .command("diff")
      .description("print the cells whose outcome (code or mTLS) or not-modelled marks change from OLD to NEW, with both reasons")
      .argument("<old>", "file or directory: the manifests before")
      .argument("<new>", "file or directory: the manifests after")
      .addOption(formatOption())
      .option("--common <file-or-dir>", "read on both sides, e.g. the workloads when OLD and NEW hold only policies (repeatable)", (v: string, prev: string[]) => [...prev, v], [])
      .option("--exit-code", "exit with 1 when some cell changes (like git diff --exit-code)"),
  ).action((oldPath: string, newPath: string, opts: DiffOptions) => setExit(runDiff(oldPath, newPath, opts, io)));
}
