import { Command } from "commander";

/**
 * A sub-command module in `host-tools/src/cli/commands/`. Each file exports
 * `register`, which adds its command to the program; the action returns its
 * verdict.
 */
export interface CommandModule {
  register(program: Command, run: RunAction): void;
}

/**
 * What a command that ran to the end found: "ok", or "invalid" when what it
 * checked failed (a signature that does not verify, lint problems, rejected
 * uploads). Input it could not use at all is thrown as a PrivateTracerError
 * of kind "unusable" instead. Only cli/main.ts turns either into an exit code.
 */
export type Verdict = "ok" | "invalid";

/** Wraps an action so that a PrivateTracerError prints its message and ends the command with its kind. */
export type RunAction = <A extends unknown[]>(action: (...args: A) => Promise<Verdict> | Verdict) => (...args: A) => Promise<void>;
