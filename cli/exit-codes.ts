/** The CLI's exit codes, as documented in the README ("Operate"). */
export const EXIT = {
  ok: 0,
  /** The API answered an error, or could not be reached. */
  callFailed: 1,
  /** Unknown command or option, or a bad argument or input file. */
  usage: 2,
  /** A replay finished, and some messages failed again. */
  failedAgain: 3,
  /** Stopped by Ctrl-C (128 + SIGINT). */
  interrupted: 130,
} as const;

/** An error the CLI reports on one line and exits with `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: number,
    options?: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}
