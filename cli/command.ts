/**
 * What the program (cli/program.ts) and its commands (cli/commands/) share: the streams a command
 * writes to, the exit codes it reports, the error for a bad command line. A module of its own so
 * that the commands need not import the program that registers them.
 */

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

/** `plan`'s line in --help: program.ts shows it without loading the command's modules. */
export const PLAN_SUMMARY = "plan the stack from its config, without a cluster or the Pulumi runtime: the resources it creates, the predicted connectivity matrix and the policy findings, or (--format yaml) the objects it applies";
