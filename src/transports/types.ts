export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs one POSIX sh script (given on stdin) on a host. That is the whole interface. */
export interface Transport {
  /** e.g. "local:examples/sandbox/web1" or "ssh:admin@10.0.0.5" */
  readonly description: string;
  /** Prefix of every managed path on the far side ("" on a real host). */
  readonly root: string;
  run(script: string, opts?: { timeoutMs?: number }): Promise<RunResult>;
  close?(): Promise<void>;
}

/** The host could not be reached or did not run the script: the message says why, `detail` holds the last lines of stderr. */
export class TransportError extends Error {
  override name = "TransportError";
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}
