// The inventory's shape. Each level (defaults, group, host) takes the same
// settings: the core ones below, plus a section per role setting (e.g.
// `nullmailer:`), composed from the catalog the caller passes (the role
// registry); the merged result of the three levels must satisfy `hostConfig`.
import { z } from "zod";
import {
  emailAddress,
  hostname,
  ipAddress,
  localPath,
  loginName,
  port,
  relayHost,
  secretRef,
  singleLine,
  absolutePath,
  sshAddress,
  sshJump,
  sshOptions,
  zoneRef,
  LOCAL_COMMAND_SSH_OPTIONS,
  jailRef,
} from "./fields.ts";

export const relaySettings = z.strictObject({
  host: relayHost.describe("the relay every message is forwarded to"),
  port: port.optional().describe("default 25 (465 with tls: tls)"),
  protocol: z.enum(["smtp", "qmqp"]).optional().describe("default smtp"),
  tls: z.enum(["none", "starttls", "tls"]).optional().describe("default none"),
  insecure: z.boolean().optional().describe("do not verify the relay's certificate"),
  caFile: absolutePath.optional().describe("CA bundle on the host for verifying the relay"),
  auth: z
    .strictObject({
      user: singleLine,
      password: secretRef.describe("{ env: NAME } | { file: path } | { command: '...' }"),
    })
    .optional(),
});

export const localTransport = z.strictObject({
  type: z.literal("local"),
  root: localPath.optional().describe("prefix for every managed path (a sandbox directory tree)"),
});

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
  become: z.enum(["sudo", "pfexec", "none"]).optional().describe("privilege escalation; default: none as root, else sudo (debian) or pfexec (smartos)"),
  allowLocalCommands: z
    .boolean()
    .optional()
    .describe("allow ssh options that run a command or load code on this machine (ProxyCommand, KnownHostsCommand, LocalCommand, Match, Include, PKCS11Provider, SecurityKeyProvider); refused under --untrusted"),
};

/** ssh options that run a command here need allowLocalCommands (checked on the merged host, where both are known). */
function checkLocalCommands(t: { options?: Record<string, unknown>; allowLocalCommands?: boolean }, ctx: z.RefinementCtx, at: string[] = []): void {
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

export const sshTransport = z.strictObject({
  type: z.literal("ssh"),
  ...sshConnection,
  root: absolutePath.optional().describe("prefix for every managed path, an absolute path on that host (a sandbox)"),
});

export const zloginTransport = z.strictObject({
  type: z.literal("zlogin"),
  zone: zoneRef.describe("the zone's uuid, or its alias (looked up with vmadm lookup)"),
  via: z.strictObject(sshConnection).optional().describe("ssh to the global zone; omit when mailfleet runs in the global zone"),
  root: absolutePath.optional().describe("prefix for every managed path, an absolute path inside the zone (a sandbox)"),
});

export const jexecTransport = z.strictObject({
  type: z.literal("jexec"),
  jail: jailRef.describe("the jail's name or jid"),
  via: z.strictObject(sshConnection).optional().describe("ssh to the jail host; omit when mailfleet runs on the jail host"),
  root: absolutePath.optional().describe("prefix for every managed path, an absolute path inside the jail (a sandbox)"),
});

export const transportSettings = z.discriminatedUnion("type", [
  localTransport,
  sshTransport.superRefine(checkLocalCommands),
  zloginTransport.superRefine((t, ctx) => t.via && checkLocalCommands(t.via, ctx, ["via"])),
  jexecTransport.superRefine((t, ctx) => t.via && checkLocalCommands(t.via, ctx, ["via"])),
]);

/** At one level (defaults, group, host) a transport names its type and may leave the rest to another level. */
const transportLevel = z.discriminatedUnion("type", [
  localTransport,
  sshTransport.partial().required({ type: true }),
  zloginTransport.extend({ via: z.strictObject(sshConnection).partial().optional() }).partial().required({ type: true }),
  jexecTransport.extend({ via: z.strictObject(sshConnection).partial().optional() }).partial().required({ type: true }),
]);

/** The settings every host has, whatever its roles. Everything is optional at a level; `hostConfig` says what is required. */
const coreShape = {
  domain: hostname.optional().describe("mail domain; the host's name is <host>.<domain>"),
  fqdn: hostname.optional().describe("the host's full name when it is not <host>.<domain>"),
  adminaddr: emailAddress.optional().describe("where mail for local users (root, cron) ends up"),
  address: ipAddress
    .optional()
    .describe("the IP address the host sends mail from (a hub lets it relay); default its ssh address when that is an IP address"),
  relay: relaySettings.partial().optional(),
  transport: transportLevel.optional(),
  secretsVersion: singleLine
    .optional()
    .describe("any label; change it after rotating a secret so Terraform re-applies the hosts that use it (values are never hashed)"),
};

const CORE_KEYS = new Set(["platform", "roles", ...Object.keys(coreShape)]);

/** The core settings of a merged host (role sections are typed by their roles). */
export interface CoreSettings {
  platform: string;
  roles: string[];
  domain: string;
  fqdn?: string;
  adminaddr?: string;
  address?: string;
  relay?: z.output<typeof relaySettings>;
  transport: z.output<typeof transportSettings>;
  secretsVersion?: string;
}

export interface InventorySchemas {
  /** What one level (defaults, group, host) may set. */
  settings: z.ZodType;
  inventoryFile: z.ZodType<InventoryFile>;
  /** A host's merged settings. */
  hostConfig: z.ZodType<CoreSettings & Record<string, unknown>>;
}

export interface InventoryFile {
  defaults?: Record<string, unknown>;
  groups?: Record<string, Record<string, unknown> & { hosts?: Record<string, Record<string, unknown> | null> }>;
  hosts?: Record<string, Record<string, unknown> | null>;
}

/** What the schema needs of the catalog (see catalog.ts InventoryCatalog): the names, and each role's sections. */
export interface SchemaCatalog {
  platforms: readonly string[];
  roles: readonly { name: string; sections: Record<string, z.ZodType> }[];
}

/** The sections of every role of the catalog; two roles naming one section must share its schema. */
function roleSections(catalog: SchemaCatalog): Record<string, z.ZodType> {
  const out: Record<string, z.ZodType> = {};
  const owner: Record<string, string> = {};
  for (const role of catalog.roles) {
    for (const [key, schema] of Object.entries(role.sections)) {
      if (CORE_KEYS.has(key) || key === "hosts") throw new Error(`role ${role.name}: section '${key}' is a core setting`);
      if (out[key] && out[key] !== schema) throw new Error(`roles ${owner[key]} and ${role.name} give section '${key}' different schemas`);
      out[key] = schema;
      owner[key] = role.name;
    }
  }
  return out;
}

function enumOf(names: readonly string[], what: string): z.ZodType<string> {
  if (names.length === 0) throw new Error(`the catalog has no ${what}`);
  return z.enum(names as [string, ...string[]]);
}

export function composeSchemas(catalog: SchemaCatalog): InventorySchemas {
  const platform = enumOf(catalog.platforms, "platform");
  const role = enumOf(catalog.roles.map((r) => r.name), "role");
  const sections = Object.fromEntries(Object.entries(roleSections(catalog)).map(([k, s]) => [k, s.optional()]));
  const shape = {
    platform: platform.optional(),
    roles: z.array(role).optional(),
    ...coreShape,
    ...sections,
  };
  const settings = z.strictObject(shape);
  const groupSettings = z.strictObject({ ...shape, hosts: z.record(z.string(), settings.nullable()).optional() });
  const inventoryFile = z.strictObject({
    defaults: settings.optional(),
    groups: z.record(z.string(), groupSettings).optional(),
    hosts: z.record(z.string(), settings.nullable()).optional(),
  });
  const hostConfig = z.strictObject({
    ...shape,
    platform,
    roles: z.array(role).min(1, "at least one role"),
    domain: hostname,
    relay: relaySettings.optional(),
    transport: transportSettings.default({ type: "local" }),
  });
  return {
    settings,
    inventoryFile: inventoryFile as unknown as z.ZodType<InventoryFile>,
    hostConfig: hostConfig as unknown as z.ZodType<CoreSettings & Record<string, unknown>>,
  };
}

const hostNameKey = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function isValidHostName(name: string): boolean {
  return hostNameKey.test(name);
}

/** JSON Schema of the inventory file, for editors (yaml-language-server) and for describing errors. */
export function inventoryJsonSchema(schemas: InventorySchemas): Record<string, unknown> {
  const schema = z.toJSONSchema(schemas.inventoryFile, { target: "draft-2020-12", io: "input" }) as Record<string, unknown>;
  return {
    $id: "https://mailfleet.dev/schema/inventory.schema.json",
    title: "mailfleet inventory",
    ...schema,
  };
}
