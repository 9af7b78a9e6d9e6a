// Secrets are references in the inventory and are read only when a host's
// desired state is built for plan or apply. Their values are remembered so
// every line mailfleet prints can be scrubbed of them. Reading one is
// bounded in size and time: a FIFO, a device or a command that hangs must
// not hang the run.
import { spawnSync } from "node:child_process";
import { closeSync, openSync, readSync, statSync, type Stats } from "node:fs";
import type { SecretRef } from "./fields.ts";

export class SecretError extends Error {
  override name = "SecretError";
}

/** A secret longer than this is refused: passwords are short, and a larger file would be a mistake (or /dev/zero). */
export const SECRET_MAX_BYTES = 64 * 1024;
/** How long a secret command may run, by default (`--secret-timeout`). */
export const SECRET_TIMEOUT_MS = 10_000;

export function describeSecretRef(ref: SecretRef): string {
  if ("env" in ref) return `env ${ref.env}`;
  if ("file" in ref) return `file ${ref.file}`;
  return `command ${JSON.stringify(ref.command)}`;
}

/** The bytes without one final line end (LF or CR LF). */
function trimOneNewline(b: Buffer): Buffer {
  const n = b.length;
  if (n > 0 && b[n - 1] === 0x0a) return b.subarray(0, n >= 2 && b[n - 2] === 0x0d ? n - 2 : n - 1);
  return b;
}

/** The text of a secret's bytes, or an error: it must be UTF-8, one line, at most SECRET_MAX_BYTES. */
function text(ref: SecretRef, bytes: Buffer): string {
  if (bytes.length > SECRET_MAX_BYTES) throw new SecretError(`secret from ${describeSecretRef(ref)} is larger than ${SECRET_MAX_BYTES / 1024} KiB; a password is one short line`);
  const s = bytes.toString("utf8");
  if (!Buffer.from(s, "utf8").equals(bytes)) throw new SecretError(`secret from ${describeSecretRef(ref)} is not UTF-8 text`);
  return s;
}

function validateValue(ref: SecretRef, value: string): string {
  if (value.length === 0) throw new SecretError(`secret from ${describeSecretRef(ref)} is empty`);
  if (/[\n\r\0]/.test(value)) throw new SecretError(`secret from ${describeSecretRef(ref)} spans several lines; a password must be one line`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new SecretError(`secret from ${describeSecretRef(ref)} holds a control character; a password is printable text`);
  return value;
}

// The environment variables the inventory names as secrets, taken out of this
// process's environment (see withholdSecretEnv): every program mailfleet
// starts (sh, ssh, secret commands) inherits process.env, so none sees them.
const withheld = new Map<string, string>();

/**
 * Moves the variables `names` out of process.env into mailfleet's own keeping,
 * before any program is started; secrets given as { env: NAME } are read from there.
 */
export function withholdSecretEnv(names: Iterable<string>): void {
  for (const name of names) {
    const v = process.env[name];
    if (v === undefined) continue;
    withheld.set(name, v);
    delete process.env[name];
  }
}

const KINDS: [string, (s: Stats) => boolean][] = [
  ["a directory", (s) => s.isDirectory()],
  ["a FIFO (named pipe)", (s) => s.isFIFO()],
  ["a character device", (s) => s.isCharacterDevice()],
  ["a block device", (s) => s.isBlockDevice()],
  ["a socket", (s) => s.isSocket()],
];

function readSecretFile(ref: SecretRef & { file: string }): Buffer {
  const st = statSync(ref.file);
  if (!st.isFile()) {
    const kind = KINDS.find(([, is]) => is(st))?.[0] ?? "not a regular file";
    throw new SecretError(`secret file ${ref.file} is ${kind}; give a regular file (a program's output: { command: ... })`);
  }
  // the limit, and a line end after it
  const most = SECRET_MAX_BYTES + 2;
  if (st.size > most) throw new SecretError(`secret file ${ref.file} is larger than ${SECRET_MAX_BYTES / 1024} KiB; a password is one short line`);
  // read at most one byte more than that, whatever the file grew to meanwhile
  const fd = openSync(ref.file, "r");
  try {
    const buf = Buffer.alloc(most + 1);
    let n = 0;
    for (let got = 1; got > 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export interface SecretOptions {
  /** Where secret commands run: the inventory's directory. */
  cwd: string;
  /** How long a secret command may run (default SECRET_TIMEOUT_MS). */
  timeoutMs?: number;
}

export function readSecret(ref: SecretRef, opts: SecretOptions): string {
  if ("env" in ref) {
    const v = withheld.get(ref.env) ?? process.env[ref.env];
    if (v === undefined) throw new SecretError(`environment variable ${ref.env} (a secret) is not set`);
    return validateValue(ref, text(ref, Buffer.from(v, "utf8")));
  }
  if ("file" in ref) {
    let bytes: Buffer;
    try {
      bytes = readSecretFile(ref);
    } catch (e) {
      if (e instanceof SecretError) throw e;
      throw new SecretError(`cannot read secret file ${ref.file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    return validateValue(ref, text(ref, trimOneNewline(bytes)));
  }
  const timeoutMs = opts.timeoutMs ?? SECRET_TIMEOUT_MS;
  // Its own process group, so what it started goes too when it is stopped.
  // (spawnSync honours `detached`, though its option type does not list it.)
  const r = spawnSync("/bin/sh", ["-c", ref.command], {
    cwd: opts.cwd,
    stdio: ["ignore", "pipe", "pipe"],
    timeout: timeoutMs,
    killSignal: "SIGKILL",
    maxBuffer: SECRET_MAX_BYTES + 2,
    ...{ detached: true },
  });
  const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ETIMEDOUT" || code === "ENOBUFS") {
    try {
      process.kill(-r.pid!, "SIGKILL");
    } catch {
      // the group is gone already
    }
    if (code === "ETIMEDOUT") throw new SecretError(`secret command ${JSON.stringify(ref.command)} did not finish within ${timeoutMs / 1000} s (--secret-timeout); it was stopped`);
    throw new SecretError(`secret command ${JSON.stringify(ref.command)} printed more than ${SECRET_MAX_BYTES / 1024} KiB; it was stopped`);
  }
  if (r.status !== 0) {
    const why = r.status !== null ? String(r.status) : `without a status (${r.signal ?? code ?? "could not run"})`;
    throw new SecretError(`secret command exited ${why}; its output is not shown`);
  }
  return validateValue(ref, text(ref, trimOneNewline(r.stdout)));
}

/** How roles get secret values: revealed for plan/apply, placeholders for render and hashing. */
export interface SecretResolver {
  value(ref: SecretRef): string;
  /** Values are placeholders (validate, render, the Terraform hash): nothing derived from them may look real. */
  readonly masked?: boolean;
  /** Every value revealed so far, for scrubbing output. */
  revealed(): string[];
}

export const MASK = "(sensitive)";

export function revealingResolver(opts: SecretOptions | string): SecretResolver {
  const o = typeof opts === "string" ? { cwd: opts } : opts;
  const cache = new Map<string, string>();
  // a secret that failed fails once: hosts sharing it do not wait for it again
  const failed = new Map<string, SecretError>();
  return {
    value(ref) {
      const key = JSON.stringify(ref);
      const error = failed.get(key);
      if (error) throw error;
      let v = cache.get(key);
      if (v === undefined) {
        try {
          v = readSecret(ref, o);
        } catch (e) {
          if (e instanceof SecretError) failed.set(key, e);
          throw e;
        }
        cache.set(key, v);
      }
      return v;
    },
    revealed: () => [...cache.values()],
  };
}

export const maskingResolver: SecretResolver = {
  value: () => MASK,
  masked: true,
  revealed: () => [],
};

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join("********");
  return out;
}
