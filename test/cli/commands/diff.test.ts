/** `diff` as cli/commands/diff.ts registers it: 1 through setExit only for changes under --exit-code. */
import test from "ava";
import { join } from "node:path";
import { UsageError } from "../../../cli/command";
import { registerDiffCommand, runDiff } from "../../../cli/commands/diff";
import { runCommand } from "../../helpers/command";

const SCENARIOS = join(__dirname, "..", "..", "fixtures", "scenarios");
const DEMO = join(SCENARIOS, "demo.yaml");
const STRICT = join(SCENARIOS, "001-mesh-strict", "policies.yaml");
const STRICT_DR = join(SCENARIOS, "001-mesh-strict-dr-istio-mutual", "policies.yaml");

test("registered on a program of its own, diff reports 1 for changes with --exit-code, else 0", async (t) => {
  const changed = ["diff", "--common", DEMO, STRICT, STRICT_DR];
  t.is((await runCommand(registerDiffCommand, changed)).code, 0);
  const exitCode = await runCommand(registerDiffCommand, [...changed, "--exit-code"]);
  t.is(exitCode.code, 1);
  t.regex(exitCode.stdout, /^\d+ of \d+ cells change/);
  t.is((await runCommand(registerDiffCommand, ["diff", "--exit-code", DEMO, DEMO])).code, 0);
});

test("runDiff throws both sides on standard input as a UsageError", (t) => {
  const io = { stdout: () => {}, stderr: () => {} };
  t.throws(() => runDiff("-", "-", { from: [], jwtAudience: [], format: "table", common: [] }, io), { instanceOf: UsageError, message: /OLD and NEW cannot both be -/ });
});
