/**
 * An error whose message tells the user what went wrong and what to do. The CLI
 * prints `message` without a stack trace and exits with `exitCode`.
 */
export class UserError extends Error {
  constructor(message: string, readonly exitCode: number = 2) {
    super(message);
    this.name = "UserError";
  }
}
