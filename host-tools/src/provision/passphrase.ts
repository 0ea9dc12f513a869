import { PassphraseUnavailableError } from "./errors";
import { PASSPHRASE_ENV } from "./store";

/**
 * A passphrase for a new store must be at least this long: scrypt slows each
 * guess, it cannot make a short passphrase long. 12 characters is four short
 * words or a strong random string.
 */
export const MIN_PASSPHRASE_CHARS = 12;

/** Where a passphrase can come from: the environment, or a terminal to ask on (absent when there is none). */
export interface PassphraseSource {
  env: NodeJS.ProcessEnv;
  /** Asks without echo and resolves to what was typed; undefined when stdin/stderr are not a terminal. */
  ask?: (question: string) => Promise<string>;
}

/**
 * The store's passphrase: $PRIVATETRACER_STORE_PASSPHRASE if set, else asked
 * on the terminal (twice when `creating`, so a typo cannot lock the home out
 * of its new store). Refuses with a clear message when neither is available,
 * rather than fall back to no encryption.
 */
export async function getPassphrase(src: PassphraseSource, creating: boolean): Promise<string> {
  let p = src.env[PASSPHRASE_ENV];
  if (p === undefined || p === "") {
    if (!src.ask)
      throw new PassphraseUnavailableError(
        `the enrolment store needs a passphrase: set ${PASSPHRASE_ENV} or run on a terminal to be asked for it (docs/provisioning.md)`
      );
    p = await src.ask(creating ? "New passphrase for the enrolment store: " : "Passphrase for the enrolment store: ");
    if (creating && (await src.ask("Repeat the passphrase: ")) !== p)
      throw new PassphraseUnavailableError("the two passphrases differ; nothing was done");
  }
  if (creating && [...p].length < MIN_PASSPHRASE_CHARS)
    throw new PassphraseUnavailableError(`a new enrolment store needs a passphrase of at least ${MIN_PASSPHRASE_CHARS} characters`);
  return p;
}

/** Reads a line from the terminal without echoing it (raw mode), for `ask`. Ctrl-C or Ctrl-D cancels. */
export function askOnTerminal(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    let typed = "";
    const finish = (): void => {
      stdin.removeListener("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") {
          finish();
          resolve(typed);
          return;
        }
        if (ch === "\u0003" || ch === "\u0004") {
          finish();
          reject(new PassphraseUnavailableError("cancelled; nothing was done"));
          return;
        }
        if (ch === "\u007f" || ch === "\b") typed = [...typed].slice(0, -1).join("");
        else typed += ch;
      }
    };
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}

/** The process's own source: its environment, and the terminal when both stdin and stderr are one. */
export function processPassphraseSource(): PassphraseSource {
  return { env: process.env, ask: process.stdin.isTTY && process.stderr.isTTY ? askOnTerminal : undefined };
}
