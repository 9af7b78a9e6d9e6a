// Where a host's settings hold secret references ({ env }, { file },
// { command }): a mapping of exactly one of these keys is always one
// (fields.ts secretRef), wherever it stands.
import type { HostConfig } from "./catalog.ts";
import type { SecretRef } from "./fields.ts";

type Path = (string | number)[];

const SECRET_KEYS = new Set(["env", "file", "command"]);

export function isSecretRef(v: unknown): v is SecretRef {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && SECRET_KEYS.has(keys[0]!) && typeof (v as Record<string, unknown>)[keys[0]!] === "string";
}

/** Every secret reference in a host's settings, with the path to it. */
export function secretRefs(value: unknown, at: Path = []): { at: Path; ref: SecretRef }[] {
  if (isSecretRef(value)) return [{ at, ref: value }];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => secretRefs(v, [...at, Array.isArray(value) ? Number(k) : k]));
}

/** The environment variables the hosts' secrets are read from ({ env: NAME }). */
export function secretEnvNames(hosts: readonly HostConfig[]): string[] {
  return [...new Set(hosts.flatMap((h) => secretRefs(h).flatMap((s) => ("env" in s.ref ? [s.ref.env] : []))))];
}
