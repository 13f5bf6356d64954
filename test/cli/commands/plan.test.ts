/** `plan` as cli/commands/plan.ts registers it: its options, and its errors printed with exit 2 through setExit. */
import test from "ava";
import { Command } from "commander";
import { registerPlanCommand } from "../../../cli/commands/plan";
import { runCommand } from "../../helpers/command";

test("registerPlanCommand adds `plan` with its options to a commander program", (t) => {
  const program = new Command("istio-mtls");
  registerPlanCommand(program, { stdout: () => {}, stderr: () => {} }, () => {});
  const plan = program.commands.find((c) => c.name() === "plan");
  t.truthy(plan);
  t.deepEqual(plan!.options.map((o) => o.long), ["--stack", "--config", "--format", "--against", "--base-ref", "--policy-config", "--today", "--fail-on"]);
});

test("the command prints an error naming the stack file and exits 2", async (t) => {
  const r = await runCommand(registerPlanCommand, ["plan", "--stack", "missing"]);
  t.regex(r.stderr, /^error: stack config .*Pulumi\.missing\.yaml does not exist/);
  t.is(r.code, 2);
  t.is(r.stdout, "");
});
