// The hash of one host's desired state: what a Terraform trigger holds, so a
// host is re-applied exactly when what mailfleet would write to it changes.
// Built from resources rendered with the masking resolver, so a secret value
// never reaches it; the same inventory gives the same hash on any machine.
import { createHash } from "node:crypto";
import path from "node:path";
import type { HostConfig } from "../inventory/load.ts";
import { maskingResolver } from "../inventory/secrets.ts";
import type { Resource } from "../resources/types.ts";
import { desiredState } from "./desired.ts";

/** Bumped when the meaning of the hashed document changes, so old triggers never match by accident. */
const FORMAT = 1;

/** JSON with sorted keys; functions (e.g. a file's mask) and undefined are left out. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === "function" ? "null" : canonicalJson(v))).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== "function")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** Absolute paths inside the inventory's directory become relative to it: they name the same thing on every checkout. */
function relativeToInventory(value: unknown, dir: string): unknown {
  if (typeof value === "string") {
    if (value === dir) return ".";
    return value.startsWith(`${dir}${path.sep}`) ? path.relative(dir, value).split(path.sep).join("/") : value;
  }
  if (Array.isArray(value)) return value.map((v) => relativeToInventory(v, dir));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, relativeToInventory(v, dir)]));
  }
  return value;
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
export function fingerprintDocument(host: HostConfig, resources: readonly Resource[]): unknown {
  const dir = host.inventoryDir;
  return relativeToInventory(
    {
      format: FORMAT,
      host: host.name,
      fqdn: host.fqdn,
      platform: host.platform,
      transport: host.transport,
      secretRefs: secretReferences(host),
      secretsVersion: host.secretsVersion,
      resources,
    },
    dir,
  );
}

/** sha256 (hex) of a host's desired state; `resources` must come from the masking resolver. */
export function desiredFingerprint(host: HostConfig, resources: readonly Resource[]): string {
  return createHash("sha256").update(canonicalJson(fingerprintDocument(host, resources))).digest("hex");
}

export function hostFingerprint(host: HostConfig): string {
  return desiredFingerprint(host, desiredState(host, maskingResolver));
}
