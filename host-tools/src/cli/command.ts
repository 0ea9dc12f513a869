import { Command } from "commander";

/**
 * A sub-command module in `host-tools/src/cli/commands/`. Each file exports
 * `register`, which adds its command to the program; the action returns the
 * process exit code.
 */
export interface CommandModule {
  register(program: Command, run: RunAction): void;
}

/** Wraps an action so that a UserError prints its message and sets the exit code. */
export type RunAction = <A extends unknown[]>(action: (...args: A) => Promise<number> | number) => (...args: A) => Promise<void>;
