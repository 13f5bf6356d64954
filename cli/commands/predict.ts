/**
 * `istio-mtls predict`: the connectivity matrix the model predicts for a set of manifests, or
 * (`--kube`) for the objects of a live cluster.
 */
import type { Command } from "commander";
import { formatPrediction, type MatrixFormat } from "../../mesh/matrix";
import { notModelledNotice } from "../../mesh/predict";
import { EXIT_OK, UsageError, type CliIO } from "../command";
import { addKubeOptions, checkKubeFlags, locateInCluster, readKube, type KubeOptions } from "../kube-input";
import { addInputOptions, formatOption, predictInput, predictPaths, type InputOptions } from "../matrix-input";

export type PredictOptions = InputOptions & { format: MatrixFormat };
export type PredictCommandOptions = PredictOptions & KubeOptions;

/** Prints the matrix of `paths`; input and usage errors are thrown for runCli to report. */
export function runPredict(paths: string[], opts: PredictOptions, io: CliIO): number {
  io.stdout(formatPrediction(predictPaths(paths, opts, io), opts.format));
  return EXIT_OK;
}

/** Prints the matrix of the live cluster's objects in the flags' scope. */
export async function runPredictKube(opts: PredictCommandOptions, io: CliIO): Promise<number> {
  const read = await readKube(opts, io);
  for (const o of read.objects) {
    const n = notModelledNotice(o);
    if (n) io.stderr(`${n}\n`);
  }
  io.stdout(formatPrediction(predictInput(read.objects, opts, io, locateInCluster(read)), opts.format));
  return EXIT_OK;
}

export function registerPredictCommand(program: Command, io: CliIO, setExit: (code: number) => void): Command {
  return addKubeOptions(
    addInputOptions(
      program
        .command("predict")
        .description("print the predicted result of a GET from every client workload to every Service port, for manifests or (--kube) a live cluster")
        .argument("[file-or-dir...]", "YAML files (multi-document, kind: List) or directories of *.yaml/*.yml; - reads stdin")
        .addOption(formatOption()),
    ),
  ).action(async (paths: string[], opts: PredictCommandOptions) => {
    checkKubeFlags(opts);
    if (opts.kube) {
      if (paths.length > 0) throw new UsageError(`--kube reads the objects from the cluster; it does not combine with file arguments (found ${paths.join(" ")})`);
      setExit(await runPredictKube(opts, io));
      return;
    }
    if (paths.length === 0) throw new UsageError("predict needs FILE_OR_DIR arguments, or --kube to read a live cluster");
    setExit(runPredict(paths, opts, io));
  });
}
