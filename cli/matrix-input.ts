/**
 * The input options `predict` and `diff` share (--from, the probe's request, --format) and the
 * prediction of one set of manifest paths under them, with errors at the file:line at fault.
 */
import { Command, Option } from "commander";
import { MATRIX_FORMATS } from "../mesh/matrix";
import { ModelInputError, predict } from "../mesh/predict";
import { ModelInputErrors } from "../mesh/model/errors";
import type { CellRequest, EndUserToken, Prediction } from "../mesh/prediction";
import type { KubeObject } from "../mesh/types";
import { SourceError, SourceErrors, type SourceObject } from "../mesh/yaml";
import { UsageError, type CliIO } from "./command";
import { findSource, loadInput } from "./inputs";

export interface InputOptions {
  from: string[];
  ignoreUnknownKinds?: boolean;
  path?: string;
  method?: string;
  jwtIssuer?: string;
  jwtSubject?: string;
  jwtAudience: string[];
  invalidJwt?: boolean;
}

/** Repeatable and comma-separated: `--from sleep.foo --from sleep.bar` or `--from sleep.foo,sleep.bar`. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(",").map((s) => s.trim()).filter((s) => s !== "")];
}

export function formatOption(): Option {
  return new Option("-f, --format <format>", "output format").choices(MATRIX_FORMATS).default("table");
}

export function addInputOptions(cmd: Command): Command {
  return cmd
    .option("--from <workload>", "client workload <name>.<namespace> (repeatable or comma-separated; default: every workload)", collect, [])
    .option("--ignore-unknown-kinds", "skip Istio objects the model cannot read (old API versions, WorkloadEntry, ...) instead of failing")
    .option("--path <path>", "request path of the probe", "/headers")
    .option("--method <method>", "request method of the probe", "GET")
    .option("--jwt-issuer <issuer>", "send an end-user token that verifies, with this iss claim (needs --jwt-subject)")
    .option("--jwt-subject <subject>", "the token's sub claim (needs --jwt-issuer)")
    .option("--jwt-audience <audience>", "the token's aud claim (repeatable or comma-separated)", collect, [])
    .addOption(new Option("--invalid-jwt", "send a token that fails verification (bad signature, expired, unknown issuer)").conflicts(["jwtIssuer", "jwtSubject", "jwtAudience"]));
}

function token(opts: InputOptions): EndUserToken {
  if (opts.invalidJwt) return { kind: "invalid" };
  if (opts.jwtIssuer === undefined && opts.jwtSubject === undefined) {
    if (opts.jwtAudience.length > 0) throw new UsageError("--jwt-audience needs --jwt-issuer and --jwt-subject");
    return { kind: "none" };
  }
  if (!opts.jwtIssuer || !opts.jwtSubject) {
    throw new UsageError(`--jwt-issuer and --jwt-subject go together; found only ${opts.jwtIssuer ? "--jwt-issuer" : "--jwt-subject"}`);
  }
  return {
    kind: "valid",
    issuer: opts.jwtIssuer,
    subject: opts.jwtSubject,
    ...(opts.jwtAudience.length > 0 ? { audiences: opts.jwtAudience } : {}),
  };
}

/** The request every cell sends, from the request options. */
export function request(opts: InputOptions): Partial<CellRequest> {
  return { path: opts.path, method: opts.method, token: token(opts) };
}

/** Predicts for one set of paths; errors name the file and line of the object at fault. */
export function predictPaths(paths: string[], opts: InputOptions, io: CliIO, label?: string): Prediction {
  const input = loadInput(paths, { ignoreUnknownKinds: opts.ignoreUnknownKinds, readStdin: io.stdin });
  for (const n of input.notices) io.stderr(`${label ? `${label}: ` : ""}${n}\n`);
  return predictInput(
    input.objects.map((so) => so.object),
    opts,
    io,
    (e) => (findSource(input.objects, e.object) ? located(input.objects, e) : e),
    label,
  );
}

/**
 * Predicts for objects from any source (files, a live cluster) under the input options; the
 * model's errors go through `locate`, which says where the object came from.
 */
export function predictInput(objects: KubeObject[], opts: InputOptions, io: CliIO, locate: (e: ModelInputError) => Error, label?: string): Prediction {
  let prediction: Prediction;
  try {
    prediction = predict(objects, {
      request: request(opts),
      markNotModelled: true,
      notice: (n) => io.stderr(`${label ? `${label}: ` : ""}${n}\n`),
    });
  } catch (e) {
    if (e instanceof ModelInputErrors) throw new SourceErrors(e.errors.map((err) => asSourceError(locate(err))));
    if (e instanceof ModelInputError) throw locate(e);
    throw e;
  }
  return filterFrom(prediction, opts.from);
}

function asSourceError(e: Error): SourceError {
  return e instanceof SourceError ? e : new SourceError("<input>", e.message);
}

/** The model's error at the file:line of the object it names (or as a file-less SourceError). */
function located(objects: readonly SourceObject[], e: ModelInputError): SourceError {
  const so = findSource(objects, e.object);
  return so ? SourceError.at(so.position, e.message) : new SourceError("<input>", e.message);
}

/** Keeps the rows of the named clients; a name that is no client is an error listing the clients. */
function filterFrom(p: Prediction, from: readonly string[]): Prediction {
  if (from.length === 0) return p;
  const clients = [...new Set(p.probes.map((o) => o.from))];
  const unknown = from.filter((f) => !clients.includes(f));
  if (unknown.length > 0) {
    throw new UsageError(
      `--from ${unknown.map((u) => JSON.stringify(u)).join(", ")}: no such client workload in the input (workloads: ${clients.join(", ") || "none"})`,
    );
  }
  const wanted = new Set(from);
  return { probes: p.probes.filter((o) => wanted.has(o.from)) };
}
