// Secrets are references in the inventory and are read only when a host's
// desired state is built for plan or apply. Their values are remembered so
// every line mailfleet prints can be scrubbed of them. Reading one is
// bounded in size and time: a FIFO, a device or a command that hangs must
// not hang the run. A secret has a shape, which the role's schema declares
// (fields.ts: secretRef, pemSecret, binarySecret): one printable line (a
// password), PEM text (a private key, a certificate chain) or any bytes.
import { spawnSync } from "node:child_process";
import { closeSync, openSync, readSync, statSync, type Stats } from "node:fs";
import type { BinarySecretRef, PemSecretRef, SecretRef } from "./fields.ts";

/** What a secret's value must be: one printable line (a password), PEM text, or any bytes. */
export type SecretShape = "line" | "pem" | "binary";

export class SecretError extends Error {
  override name = "SecretError";
}

/**
 * A secret longer than this is refused, whatever its shape: passwords are
 * short; an RSA-8192 private key is 6.2 KiB in PEM (4.5 KiB in DER), a leaf
 * certificate with two intermediate and one root RSA-4096 CA certificates
 * 7.1 KiB (OpenSSL 3.0); a larger file would be a mistake (or /dev/zero).
 * The apply script carries a value in at most 5 times its size (printf's
 * octal escapes for binary bytes) and the probe reads it back as hex (3
 * times): one round trip either way.
 */
export const SECRET_MAX_BYTES = 64 * 1024;

/** Why a secret is too large, by shape, for the message. */
const TOO_LARGE: Record<SecretShape, string> = {
  line: "a password is one short line",
  pem: "a PEM key or certificate chain is a few KiB",
  binary: "a binary key is a few KiB",
};

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

/** The text of a secret's bytes, or an error: it must be UTF-8, at most SECRET_MAX_BYTES. */
function text(ref: SecretRef, bytes: Buffer, shape: SecretShape = "line"): string {
  if (bytes.length > SECRET_MAX_BYTES) throw new SecretError(`secret from ${describeSecretRef(ref)} is larger than ${SECRET_MAX_BYTES / 1024} KiB; ${TOO_LARGE[shape]}`);
  const s = bytes.toString("utf8");
  if (!Buffer.from(s, "utf8").equals(bytes)) throw new SecretError(`secret from ${describeSecretRef(ref)} is not UTF-8 text${shape === "pem" ? " (PEM is text)" : ""}`);
  return s;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9][A-Z0-9 ]*)-----\r?\n([\s\S]*?)-----END ([A-Z0-9][A-Z0-9 ]*)-----/g;

/** The base64 lines of a PEM block's body, after the RFC 1421 headers of an encrypted traditional key (Proc-Type, DEK-Info). */
function pemBodyLines(body: string): string[] {
  let lines = body.split(/\r?\n/).map((l) => l.trim());
  if (lines[0]?.includes(":")) lines = lines.slice(lines.indexOf("") + 1);
  return lines.filter((l) => l !== "");
}

/** One or more PEM blocks, each of base64 between matching BEGIN and END lines; text outside them (Bag Attributes) is kept. */
function checkPem(ref: SecretRef, bytes: Buffer): Buffer {
  const where = `secret from ${describeSecretRef(ref)}`;
  if (bytes.length === 0) throw new SecretError(`${where} is empty`);
  const s = text(ref, bytes, "pem");
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s)) throw new SecretError(`${where} holds a control character; PEM is text`);
  let blocks = 0;
  for (const m of s.matchAll(PEM_BLOCK)) {
    if (m[1] !== m[3]) throw new SecretError(`${where}: a PEM block begins as ${m[1]} and ends as ${m[3]}`);
    const body = pemBodyLines(m[2]!).join("");
    if (body === "" || body.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw new SecretError(`${where}: its ${m[1]} block is not base64`);
    blocks++;
  }
  if (blocks === 0) throw new SecretError(`${where} is not PEM: it has no -----BEGIN ...----- and -----END ...----- lines`);
  if ((s.match(/-----BEGIN /g)?.length ?? 0) !== blocks) throw new SecretError(`${where}: a PEM block has no matching END line`);
  return s.endsWith("\n") ? bytes : Buffer.concat([bytes, Buffer.from("\n")]);
}

/** A binary secret from the environment: base64 (an environment variable cannot hold a NUL byte), whitespace ignored. */
function fromBase64(ref: SecretRef & { env: string }, v: string): Buffer {
  const b64 = v.replace(/\s+/g, "");
  const bytes = Buffer.from(b64, "base64");
  if (b64 === "" || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || bytes.toString("base64") !== b64) {
    throw new SecretError(`environment variable ${ref.env} (a binary secret) is not base64; an environment variable cannot hold every byte, so a binary secret is given there in base64`);
  }
  return bytes;
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

/** The most bytes a source may give: the limit, and for a password a line end after it. */
const mostBytes = (shape: SecretShape) => (shape === "line" ? SECRET_MAX_BYTES + 2 : SECRET_MAX_BYTES);

function readSecretFile(ref: SecretRef & { file: string }, shape: SecretShape): Buffer {
  const st = statSync(ref.file);
  if (!st.isFile()) {
    const kind = KINDS.find(([, is]) => is(st))?.[0] ?? "not a regular file";
    throw new SecretError(`secret file ${ref.file} is ${kind}; give a regular file (a program's output: { command: ... })`);
  }
  const most = mostBytes(shape);
  if (st.size > most) throw new SecretError(`secret file ${ref.file} is larger than ${SECRET_MAX_BYTES / 1024} KiB; ${TOO_LARGE[shape]}`);
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

/** The bytes a secret's source gives, bounded in size and time; a binary secret from the environment decoded from base64. */
function readSource(ref: SecretRef, opts: SecretOptions, shape: SecretShape): Buffer {
  if ("env" in ref) {
    const v = withheld.get(ref.env) ?? process.env[ref.env];
    if (v === undefined) throw new SecretError(`environment variable ${ref.env} (a secret) is not set`);
    return shape === "binary" ? fromBase64(ref, v) : Buffer.from(v, "utf8");
  }
  if ("file" in ref) {
    try {
      return readSecretFile(ref, shape);
    } catch (e) {
      if (e instanceof SecretError) throw e;
      throw new SecretError(`cannot read secret file ${ref.file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }
  const timeoutMs = opts.timeoutMs ?? SECRET_TIMEOUT_MS;
  // Its own process group, so what it started goes too when it is stopped.
  // (spawnSync honours `detached`, though its option type does not list it.)
  const r = spawnSync("/bin/sh", ["-c", ref.command], {
    cwd: opts.cwd,
    stdio: ["ignore", "pipe", "pipe"],
    timeout: timeoutMs,
    killSignal: "SIGKILL",
    maxBuffer: mostBytes(shape),
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
  return r.stdout;
}

/** A password: one printable line; one final line end of a file or a command's output is not part of it. */
export function readSecret(ref: SecretRef, opts: SecretOptions): string {
  const bytes = readSource(ref, opts, "line");
  return validateValue(ref, text(ref, "env" in ref ? bytes : trimOneNewline(bytes)));
}

/**
 * A PEM or binary secret's bytes. PEM: UTF-8 text of one or more blocks,
 * given a final line end when it has none. Binary: the bytes exactly, none
 * trimmed (from { env }: decoded from base64). Never empty, at most SECRET_MAX_BYTES.
 */
export function readSecretBytes(ref: SecretRef, shape: "pem" | "binary", opts: SecretOptions): Buffer {
  const bytes = readSource(ref, opts, shape);
  if (shape === "pem") return checkPem(ref, bytes);
  if (bytes.length === 0) throw new SecretError(`secret from ${describeSecretRef(ref)} is empty`);
  if (bytes.length > SECRET_MAX_BYTES) throw new SecretError(`secret from ${describeSecretRef(ref)} is larger than ${SECRET_MAX_BYTES / 1024} KiB; ${TOO_LARGE.binary}`);
  return bytes;
}

/**
 * The texts output is scrubbed of for a PEM or binary secret: the whole
 * text, each base64 line of its blocks and each block's base64 on one line
 * (a line of a key in a JSON string or a diff), or the bytes in base64 and
 * hex. Short forms are left out: scrubbing them would garble output.
 */
export function secretForms(shape: "pem" | "binary", bytes: Buffer): string[] {
  const out = new Set<string>();
  if (shape === "binary") {
    out.add(bytes.toString("base64"));
    out.add(bytes.toString("hex"));
  } else {
    const s = bytes.toString("utf8");
    out.add(s).add(s.trimEnd());
    for (const m of s.matchAll(PEM_BLOCK)) {
      const lines = pemBodyLines(m[2]!);
      for (const l of lines) out.add(l);
      out.add(lines.join(""));
    }
  }
  return [...out].filter((f) => f.length >= 16);
}

/** Reads a PEM or binary secret; the reference's type must be the schema's of that shape. */
export interface ReadShaped {
  (ref: PemSecretRef, shape: "pem"): Buffer;
  (ref: BinarySecretRef, shape: "binary"): Buffer;
}

/** How roles get secret values: revealed for plan/apply, placeholders for render and hashing. */
export interface SecretResolver {
  /** A password (the schema's secretRef): one printable line. */
  value(ref: SecretRef): string;
  /**
   * A PEM or binary secret, read with the shape its schema declares
   * (pemSecret, binarySecret: the brand of the reference's type says which).
   * The resolvers of this module have it; one without it reads passwords only.
   */
  bytes?: ReadShaped;
  /** Values are placeholders (validate, render, the Terraform hash): nothing derived from them may look real. */
  readonly masked?: boolean;
  /** Every value revealed so far, for scrubbing output. */
  revealed(): string[];
}

export const MASK = "(sensitive)";

export function revealingResolver(opts: SecretOptions | string): SecretResolver {
  const o = typeof opts === "string" ? { cwd: opts } : opts;
  const cache = new Map<string, { forms: string[]; value: string | Buffer }>();
  // a secret that failed fails once: hosts sharing it do not wait for it again
  const failed = new Map<string, SecretError>();
  const once = <T extends string | Buffer>(key: string, read: () => T, forms: (v: T) => string[]): T => {
    const error = failed.get(key);
    if (error) throw error;
    let hit = cache.get(key);
    if (hit === undefined) {
      let v: T;
      try {
        v = read();
      } catch (e) {
        if (e instanceof SecretError) failed.set(key, e);
        throw e;
      }
      hit = { value: v, forms: forms(v) };
      cache.set(key, hit);
    }
    return hit.value as T;
  };
  return {
    value: (ref) => once(JSON.stringify(ref), () => readSecret(ref, o), (v) => [v]),
    bytes: (ref: SecretRef, shape: "pem" | "binary") => once(`${shape} ${JSON.stringify(ref)}`, () => readSecretBytes(ref, shape, o), (v) => secretForms(shape, v)),
    revealed: () => [...cache.values()].flatMap((c) => c.forms),
  };
}

export const maskingResolver: SecretResolver = {
  value: () => MASK,
  bytes: () => Buffer.from(MASK),
  masked: true,
  revealed: () => [],
};

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join("********");
  return out;
}
