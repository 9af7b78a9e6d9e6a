// Secrets are references in the inventory and are read only when a host's
// desired state is built for plan or apply. Their values are remembered so
// every line mailfleet prints can be scrubbed of them.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { SecretRef } from "./fields.ts";

export class SecretError extends Error {
  override name = "SecretError";
}

export function describeSecretRef(ref: SecretRef): string {
  if ("env" in ref) return `env ${ref.env}`;
  if ("file" in ref) return `file ${ref.file}`;
  return `command ${JSON.stringify(ref.command)}`;
}

function trimOneNewline(s: string): string {
  return s.replace(/\r?\n$/, "");
}

function validateValue(ref: SecretRef, value: string): string {
  if (value.length === 0) throw new SecretError(`secret from ${describeSecretRef(ref)} is empty`);
  if (/[\n\r\0]/.test(value)) throw new SecretError(`secret from ${describeSecretRef(ref)} spans several lines; a password must be one line`);
  return value;
}

export function readSecret(ref: SecretRef, cwd: string): string {
  if ("env" in ref) {
    const v = process.env[ref.env];
    if (v === undefined) throw new SecretError(`environment variable ${ref.env} (a secret) is not set`);
    return validateValue(ref, v);
  }
  if ("file" in ref) {
    try {
      return validateValue(ref, trimOneNewline(readFileSync(ref.file, "utf8")));
    } catch (e) {
      if (e instanceof SecretError) throw e;
      throw new SecretError(`cannot read secret file ${ref.file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }
  const r = spawnSync("/bin/sh", ["-c", ref.command], { cwd, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (r.status !== 0) {
    const why = r.status !== null ? String(r.status) : `without a status (${r.signal ?? (r.error as NodeJS.ErrnoException | undefined)?.code ?? "could not run"})`;
    throw new SecretError(`secret command exited ${why}; its output is not shown`);
  }
  return validateValue(ref, trimOneNewline(r.stdout));
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

export function revealingResolver(cwd: string): SecretResolver {
  const cache = new Map<string, string>();
  return {
    value(ref) {
      const key = JSON.stringify(ref);
      let v = cache.get(key);
      if (v === undefined) {
        v = readSecret(ref, cwd);
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
