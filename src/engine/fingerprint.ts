// The hash of one host's desired state: what a Terraform trigger holds, so a
// host is re-applied exactly when what mailfleet would write to it changes,
// and what a saved plan holds, so it is applied only to that desired state.
// Built from resources rendered with the masking resolver, so a secret value
// never reaches it; the same inventory gives the same hash on any machine.
import { createHash } from "node:crypto";
import path from "node:path";
import { configure } from "safe-stable-stringify";
import type { HostConfig } from "../inventory/catalog.ts";
import { maskingResolver } from "../inventory/secrets.ts";
import type { Resource } from "../resources/types.ts";
import { desiredState } from "./desired.ts";

/** Bumped when the meaning of the hashed document changes, so old triggers never match by accident. */
const FORMAT = 1;

type Rewrite = (s: string) => string;

/**
 * JSON.stringify's rules (functions and undefined left out of objects, null
 * in lists) with every object's keys sorted as Array.prototype.sort orders
 * them; a circular value is an error, never a placeholder.
 */
const stableJson = configure({ deterministic: true, circularValue: Error });

/** JSON with sorted keys; functions (e.g. a file's mask) and undefined are left out; `rewrite` maps every string value. */
export function canonicalJson(value: unknown, rewrite: Rewrite = (s) => s): string {
  return stableJson(value, (_key, v: unknown) => (typeof v === "string" ? rewrite(v) : v)) ?? "null";
}

/** Absolute paths inside the inventory's directory become relative to it: they name the same thing on every checkout. */
function relativeToInventory(dir: string): Rewrite {
  const prefix = `${dir}${path.sep}`;
  return (s) => (s === dir ? "." : s.startsWith(prefix) ? path.relative(dir, s).split(path.sep).join("/") : s);
}

const SECRET_REF_KEYS = new Set(["env", "file", "command"]);

/** Every secret reference ({env}|{file}|{command}) in the host's settings, with where it sits. */
function secretReferences(value: unknown, at = ""): [string, unknown][] {
  if (value === null || typeof value !== "object") return [];
  const keys = Object.keys(value);
  if (!Array.isArray(value) && keys.length === 1 && SECRET_REF_KEYS.has(keys[0]!)) {
    const v = (value as Record<string, unknown>)[keys[0]!];
    if (typeof v === "string") return [[at, value]];
  }
  return keys.flatMap((k) => secretReferences((value as Record<string, unknown>)[k], at ? `${at}.${k}` : k));
}

/**
 * What identifies a host's desired state: its name and transport (where the
 * apply goes), the references to its secrets and `secretsVersion` (a secret's
 * value is never read, so rotating one changes the hash only through these),
 * and every resource (contents, modes, owners, links, packages, services).
 */
export function fingerprintText(host: HostConfig, resources: readonly Resource[]): string {
  const doc = {
    format: FORMAT,
    host: host.name,
    fqdn: host.fqdn,
    platform: host.platform,
    transport: host.transport,
    secretRefs: secretReferences(host),
    secretsVersion: host.secretsVersion,
    resources,
  };
  return canonicalJson(doc, relativeToInventory(host.inventoryDir));
}

/** sha256 (hex) of a host's desired state; `resources` must come from the masking resolver. */
export function desiredFingerprint(host: HostConfig, resources: readonly Resource[]): string {
  return createHash("sha256").update(fingerprintText(host, resources)).digest("hex");
}

export function hostFingerprint(host: HostConfig, fleet: readonly HostConfig[] = [host]): string {
  return desiredFingerprint(host, desiredState(host, maskingResolver, fleet));
}
