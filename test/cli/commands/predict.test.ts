/** `predict` as cli/commands/predict.ts registers it: its exit code through setExit, its errors thrown for runCli. */
import test from "ava";
import { join } from "node:path";
import { UsageError } from "../../../cli/command";
import { registerPredictCommand, runPredict } from "../../../cli/commands/predict";
import { runCommand } from "../../helpers/command";

const DEMO = join(__dirname, "..", "..", "fixtures", "scenarios", "demo.yaml");

test("registered on a program of its own, predict prints the rows of --from and reports exit 0", async (t) => {
  const r = await runCommand(registerPredictCommand, ["predict", "-f", "json", "--from", "sleep.foo", DEMO]);
  t.is(r.code, 0, r.stderr);
  const probes = (JSON.parse(r.stdout) as { probes: { from: string }[] }).probes;
  t.true(probes.length > 0);
  t.true(probes.every((p) => p.from === "sleep.foo"));
});

test("runPredict throws a --from naming no workload as a UsageError, printing nothing", (t) => {
  let out = "";
  const io = { stdout: (s: string) => (out += s), stderr: (s: string) => (out += s) };
  t.throws(() => runPredict([DEMO], { from: ["sleep.baz"], jwtAudience: [], format: "table" }, io), { instanceOf: UsageError, message: /--from "sleep\.baz": no such client workload/ });
  t.is(out, "");
});
