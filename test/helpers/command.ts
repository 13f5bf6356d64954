/** One command of cli/commands/ on a program of its own, as runCli registers it, without runCli's error handling. */
import { Command } from "commander";
import type { CliIO } from "../../cli/command";

type RegisterCommand = (program: Command, io: CliIO, setExit: (code: number) => void) => Command;

export interface CommandRun {
  /** What the command reported through setExit; undefined when it threw before reporting. */
  code?: number;
  stdout: string;
  stderr: string;
}

export async function runCommand(register: RegisterCommand, argv: string[]): Promise<CommandRun> {
  const run: CommandRun = { stdout: "", stderr: "" };
  const program = new Command("istio-mtls").exitOverride();
  register(program, { stdout: (s) => (run.stdout += s), stderr: (s) => (run.stderr += s) }, (c) => (run.code = c));
  await program.parseAsync(argv, { from: "user" });
  return run;
}
