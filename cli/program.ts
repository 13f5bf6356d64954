/**
 * The `istio-mtls` command: `predict` prints the connectivity matrix the model predicts for a set
 * of manifests, `diff` prints the cells that change between two sets, `plan` (cli/plan.ts) renders
 * the stack program (with `--format yaml`, the objects it applies, in apply order).
 *
 * Exit codes: 0 success (also for `diff` with changes, unless --exit-code), 1 `diff --exit-code`
 * found changes (or `plan` findings at its --fail-on level), 2 invalid usage or input (the
 * message on stderr says what and where).
 */
import { Command, CommanderError, Option } from "commander";
import { diffPredictions, formatDiff, formatPrediction, MATRIX_FORMATS, type MatrixFormat } from "../mesh/matrix";
import { ModelInputError, predict } from "../mesh/predict";
import { ModelInputErrors } from "../mesh/model/errors";
import type { CellRequest, EndUserToken, Prediction } from "../mesh/prediction";
import { SourceError, SourceErrors, type SourceObject } from "../mesh/yaml";
import { findSource, loadInput } from "./inputs";

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The whole of standard input, for the path "-". */
  stdin?(): string;
}

export const EXIT_OK = 0;
export const EXIT_CHANGES = 1;
export const EXIT_INVALID = 2;

/** A problem with the command line itself (not with the files it names). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

interface InputOptions {
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

function formatOption(): Option {
  return new Option("-f, --format <format>", "output format").choices(MATRIX_FORMATS).default("table");
}

function addInputOptions(cmd: Command): Command {
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

function request(opts: InputOptions): Partial<CellRequest> {
  return { path: opts.path, method: opts.method, token: token(opts) };
}

/** Predicts for one set of paths; errors name the file and line of the object at fault. */
function predictPaths(paths: string[], opts: InputOptions, io: CliIO, label?: string): Prediction {
  const input = loadInput(paths, { ignoreUnknownKinds: opts.ignoreUnknownKinds, readStdin: io.stdin });
  for (const n of input.notices) io.stderr(`${label ? `${label}: ` : ""}${n}\n`);
  let prediction: Prediction;
  try {
    prediction = predict(input.objects.map((so) => so.object), { request: request(opts), markNotModelled: true });
  } catch (e) {
    if (e instanceof ModelInputErrors) throw new SourceErrors(e.errors.map((err) => located(input.objects, err)));
    if (e instanceof ModelInputError) throw findSource(input.objects, e.object) ? located(input.objects, e) : e;
    throw e;
  }
  return filterFrom(prediction, opts.from);
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

/** Shown in `istio-mtls --help`; the real command (cli/plan.ts) is loaded only when `plan` runs. */
const PLAN_SUMMARY = "run the stack program under Pulumi mocks: the resources it creates, the predicted connectivity matrix and the policy findings, or (--format yaml) the objects it applies";

/**
 * `plan` renders the Pulumi program and runs the policy pack: its modules take about a second to
 * load, which `predict` and `diff` should not pay.
 */
function addPlan(program: Command, argv: readonly string[], io: CliIO, setExit: (code: number) => void): void {
  const runsPlan = argv[0] === "plan" || (argv[0] === "help" && argv[1] === "plan");
  if (!runsPlan) {
    program.command("plan").description(PLAN_SUMMARY);
    return;
  }
  const { registerPlanCommand } = require("./plan") as typeof import("./plan");
  registerPlanCommand(program, io, setExit);
}

function buildProgram(argv: readonly string[], io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command("istio-mtls")
    .description("Predict the Istio mTLS connectivity matrix (sleep.X → httpbin.Y) of Kubernetes manifests")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError("(run with --help for usage)");

  addInputOptions(
    program
      .command("predict")
      .description("print the predicted result of a GET from every client workload to every Service port")
      .argument("<file-or-dir...>", "YAML files (multi-document, kind: List) or directories of *.yaml/*.yml; - reads stdin")
      .addOption(formatOption()),
  ).action((paths: string[], opts: InputOptions & { format: MatrixFormat }) => {
    const p = predictPaths(paths, opts, io);
    io.stdout(formatPrediction(p, opts.format));
    setExit(EXIT_OK);
  });

  addInputOptions(
    program
      .command("diff")
      .description("print the cells whose outcome (code or mTLS) or not-modelled marks change from OLD to NEW, with both reasons")
      .argument("<old>", "file or directory: the manifests before")
      .argument("<new>", "file or directory: the manifests after")
      .addOption(formatOption())
      .option("--common <file-or-dir>", "read on both sides, e.g. the workloads when OLD and NEW hold only policies (repeatable)", (v: string, prev: string[]) => [...prev, v], [])
      .option("--exit-code", "exit with 1 when some cell changes (like git diff --exit-code)"),
  ).action((oldPath: string, newPath: string, opts: InputOptions & { format: MatrixFormat; exitCode?: boolean; common: string[] }) => {
    if (oldPath === "-" && newPath === "-") throw new UsageError("diff: OLD and NEW cannot both be - (standard input)");
    if (opts.common.includes("-")) throw new UsageError("diff: --common cannot be - (standard input is read once)");
    const before = predictPaths([...opts.common, oldPath], opts, io, "OLD");
    const after = predictPaths([...opts.common, newPath], opts, io, "NEW");
    const d = diffPredictions(before, after);
    io.stdout(formatDiff(d, opts.format));
    setExit(opts.exitCode && d.changes.length > 0 ? EXIT_CHANGES : EXIT_OK);
  });

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
    if (e instanceof SourceError || e instanceof ModelInputError || e instanceof UsageError) {
      io.stderr(`error: ${e.message}\n`);
      return EXIT_INVALID;
    }
    throw e;
  }
}
