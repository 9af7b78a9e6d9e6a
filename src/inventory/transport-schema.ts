// The transports' settings. Each transport is one strict object with a `type`
// literal; the catalog lists those a host may name, and the inventory's
// schema and the loader's checks are derived from each one's schema, never
// from its name: where it holds ssh settings (the ssh transport itself, the
// `via` of a zone or jail entered from its parent host), and which of its
// fields are paths on this machine (relative to the inventory).
import { z } from "zod";
import { valueAt } from "./describe.ts";
import { absolutePath, jailRef, localPath, loginName, port, sshAddress, sshJump, sshOptions, zoneRef, LOCAL_COMMAND_SSH_OPTIONS } from "./fields.ts";
import { PRIVILEGE_TOOL_NAMES } from "./privilege.ts";

type Path = (string | number)[];

/** How to reach a machine with the system's OpenSSH (so ~/.ssh/config, the agent and jump hosts apply). */
export const sshConnection = {
  address: sshAddress.describe("host name, ~/.ssh/config alias or IP address"),
  port: port.optional().describe("default: ssh's (22, or ~/.ssh/config)"),
  user: loginName.optional().describe("login name; default: ssh's. Not root: scripts run through sudo -n (Linux) or pfexec (SmartOS)"),
  identityFile: localPath.optional().describe("private key on this machine (relative to the inventory); the agent is used otherwise"),
  jump: sshJump.optional().describe("jump host(s), as ssh -J: [user@]host[:port],..."),
  options: sshOptions.optional().describe("more ssh options, each passed as -o Key=value"),
  hostKeyChecking: z
    .enum(["strict", "accept-new", "off"])
    .optional()
    .describe("default strict: an unknown or changed host key is an error; accept-new trusts a first key; off checks nothing"),
  become: z.enum([...PRIVILEGE_TOOL_NAMES, "none"]).optional().describe("privilege escalation; default: none as root, else sudo (debian) or pfexec (smartos)"),
  allowLocalCommands: z
    .boolean()
    .optional()
    .describe("allow ssh options that run a command or load code on this machine (ProxyCommand, KnownHostsCommand, LocalCommand, Match, Include, PKCS11Provider, SecurityKeyProvider); refused under --untrusted"),
};

/** The ssh settings of a parent host a transport enters its host from (`via:`): a transport with such a field is reached through that parent. */
export const viaHost = z.strictObject(sshConnection);

export const localTransport = z.strictObject({
  type: z.literal("local"),
  root: localPath.optional().describe("prefix for every managed path (a sandbox directory tree)"),
});

export const sshTransport = z.strictObject({
  type: z.literal("ssh"),
  ...sshConnection,
  root: absolutePath.optional().describe("prefix for every managed path, an absolute path on that host (a sandbox)"),
});

export const zloginTransport = z.strictObject({
  type: z.literal("zlogin"),
  zone: zoneRef.describe("the zone's uuid, or its alias (looked up with vmadm lookup)"),
  via: viaHost.optional().describe("ssh to the global zone; omit when mailfleet runs in the global zone"),
  root: absolutePath.optional().describe("prefix for every managed path, an absolute path inside the zone (a sandbox)"),
});

export const jexecTransport = z.strictObject({
  type: z.literal("jexec"),
  jail: jailRef.describe("the jail's name or jid"),
  via: viaHost.optional().describe("ssh to the jail host; omit when mailfleet runs on the jail host"),
  root: absolutePath.optional().describe("prefix for every managed path, an absolute path inside the jail (a sandbox)"),
});

/** A transport's settings: a strict object whose `type` names it. */
export type TransportSchema = z.ZodObject<{ type: z.ZodLiteral<string> } & z.core.$ZodLooseShape, z.core.$strict>;

/** The transports mailfleet has (src/transports/index.ts runs them). */
export const builtinTransports = [localTransport, sshTransport, zloginTransport, jexecTransport] as const;

/** A merged host's transport settings, of one of the built-in transports. */
export type TransportSettings = z.output<(typeof builtinTransports)[number]>;

/** The schema under optional, nullable and default wrappers. */
function unwrapped(s: z.core.$ZodType): z.core.$ZodType {
  let t = s;
  while (t._zod.def.type === "optional" || t._zod.def.type === "nullable" || t._zod.def.type === "default") t = (t._zod.def as unknown as { innerType: z.core.$ZodType }).innerType;
  return t;
}

/** Every object of a schema (itself included) with its path, and each field of them. */
function objectsOf(s: z.core.$ZodType, at: Path = []): { at: Path; shape: Record<string, z.core.$ZodType> }[] {
  const t = unwrapped(s);
  if (t._zod.def.type !== "object") return [];
  const shape = (t as z.ZodObject)._zod.def.shape as Record<string, z.core.$ZodType>;
  return [{ at, shape }, ...Object.entries(shape).flatMap(([k, f]) => objectsOf(f, [...at, k]))];
}

/** Where a transport holds ssh settings: [] for ssh itself, ["via"] for a host reached through a parent host. */
export function sshSettingsIn(t: TransportSchema): Path[] {
  return objectsOf(t)
    .filter(({ shape }) => Object.entries(sshConnection).every(([k, f]) => shape[k] === f))
    .map((o) => o.at);
}

/** The fields of a transport that are paths on this machine (relative to the inventory): a local root, a key file. */
export function localPathsIn(t: TransportSchema): Path[] {
  return objectsOf(t).flatMap(({ at, shape }) => Object.entries(shape).flatMap(([k, f]) => (unwrapped(f) === localPath ? [[...at, k]] : [])));
}

/** ssh options that run a command here need allowLocalCommands (checked on the merged host, where both are known). */
function checkLocalCommands(t: { options?: Record<string, unknown>; allowLocalCommands?: boolean }, ctx: z.RefinementCtx, at: Path): void {
  if (t.allowLocalCommands) return;
  for (const key of Object.keys(t.options ?? {})) {
    const why = LOCAL_COMMAND_SSH_OPTIONS[key.toLowerCase()];
    if (why) {
      ctx.addIssue({
        code: "custom",
        path: [...at, "options", key],
        message: `option ${key} ${why}; an inventory runs nothing on this machine unless its transport sets allowLocalCommands: true`,
      });
    }
  }
}

/** A merged host's transport: one of `transports`, each of its ssh settings checked for options that run commands here. */
export function transportUnion(transports: readonly TransportSchema[]) {
  const forms = transports.map((t) => {
    const ssh = sshSettingsIn(t);
    return ssh.length === 0
      ? t
      : t.superRefine((v, ctx) => {
          for (const at of ssh) {
            const s = valueAt(v, at) as Parameters<typeof checkLocalCommands>[0] | undefined;
            if (s) checkLocalCommands(s, ctx, at);
          }
        });
  });
  return z.discriminatedUnion("type", forms as unknown as [TransportSchema, ...TransportSchema[]]);
}

/**
 * A transport at one level (defaults, group, host): it names its type and
 * may leave the rest to another level, also within the ssh settings of a
 * parent host (a group gives `via`, each host its zone).
 */
export function transportLevelUnion(transports: readonly TransportSchema[]) {
  const forms = transports.map((t) => {
    const nested = sshSettingsIn(t).filter((at) => at.length > 0);
    if (nested.some((at) => at.length > 1)) throw new Error(`transport ${t.shape.type.value}: ssh settings are a field of the transport itself (via), not deeper`);
    const levels = Object.fromEntries(nested.map(([k]) => [k, viaHost.partial().optional()]));
    return t.extend(levels).partial().required({ type: true });
  });
  return z.discriminatedUnion("type", forms as unknown as [TransportSchema, ...TransportSchema[]]);
}
