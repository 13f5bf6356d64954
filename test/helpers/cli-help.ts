/** The CLI's commands and options as its own help prints them, for tests that check documents against it. */
import { runCli } from "../../cli/program";

/** What `istio-mtls [cmd] --help` prints, through the CLI's own entry function. */
async function helpOf(args: string[]): Promise<string> {
  let out = "";
  await runCli([...args, "--help"], { stdout: (t) => (out += t), stderr: (t) => (out += t) });
  return out;
}

/** The CLI's commands (from its help) and each command's long options (from the command's help). */
export async function cliCommands(): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  const commandsSection = (await helpOf([])).split(/^Commands:$/m)[1] ?? "";
  for (const m of commandsSection.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)) {
    if (m[1] === "help") continue;
    out.set(m[1], new Set([...(await helpOf([m[1]])).matchAll(/(--[a-z][a-z-]*)/g)].map((o) => o[1])));
  }
  return out;
}

/** Problems with one `npx istio-mtls <cmd> [options]` invocation: an unknown command or option. */
export function invocationProblems(commands: Map<string, Set<string>>, line: string): string[] | undefined {
  const m = /\bnpx istio-mtls ([a-z-]+)(.*)$/.exec(line);
  if (!m) return undefined;
  const known = commands.get(m[1]);
  if (!known) return [`istio-mtls ${m[1]} is not a command (${[...commands.keys()].join(", ")})`];
  return [...m[2].matchAll(/(?:^|\s)(--[a-z-]+)/g)].filter((o) => !known.has(o[1])).map((o) => `istio-mtls ${m[1]} has no option ${o[1]}`);
}
