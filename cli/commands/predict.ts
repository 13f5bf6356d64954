/** `istio-mtls predict`: the connectivity matrix the model predicts for a set of manifests. */
import type { Command } from "commander";
import { formatPrediction, type MatrixFormat } from "../../mesh/matrix";
import { EXIT_OK, type CliIO } from "../command";
import { addInputOptions, formatOption, predictPaths, type InputOptions } from "../matrix-input";

export type PredictOptions = InputOptions & { format: MatrixFormat };

/** Prints the matrix of `paths`; input and usage errors are thrown for runCli to report. */
export function runPredict(paths: string[], opts: PredictOptions, io: CliIO): number {
  io.stdout(formatPrediction(predictPaths(paths, opts, io), opts.format));
  return EXIT_OK;
}

export function registerPredictCommand(program: Command, io: CliIO, setExit: (code: number) => void): Command {
  return addInputOptions(
    program
      .command("predict")
      .description("print the predicted result of a GET from every client workload to every Service port")
      .argument("<file-or-dir...>", "YAML files (multi-document, kind: List) or directories of *.yaml/*.yml; - reads stdin")
      .addOption(formatOption()),
  ).action((paths: string[], opts: PredictOptions) => setExit(runPredict(paths, opts, io)));
}
