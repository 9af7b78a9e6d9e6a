// The inventory's shape. Each level (defaults, group, host) takes the same
// settings; the merged result of the three must satisfy `hostConfig`.
import { z } from "zod";
import { nullmailerSettings } from "../../roles/nullmailer/schema.ts";
import { postfixSettings } from "../../roles/postfix-satellite/schema.ts";
import {
  emailAddress,
  hostname,
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
} from "./fields.ts";

export const ROLE_NAMES = ["nullmailer", "postfix-satellite"] as const;
export const PLATFORM_NAMES = ["smartos", "debian"] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

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
};

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

export const transportSettings = z.discriminatedUnion("type", [localTransport, sshTransport, zloginTransport]);

/** At one level (defaults, group, host) a transport names its type and may leave the rest to another level. */
const transportLevel = z.discriminatedUnion("type", [
  localTransport,
  sshTransport.partial().required({ type: true }),
  zloginTransport.extend({ via: z.strictObject(sshConnection).partial().optional() }).partial().required({ type: true }),
]);

/** What every level may set. Everything is optional here; `hostConfig` says what is required. */
export const settingsShape = {
  platform: z.enum(PLATFORM_NAMES).optional(),
  roles: z.array(z.enum(ROLE_NAMES)).optional(),
  domain: hostname.optional().describe("mail domain; the host's name is <host>.<domain>"),
  fqdn: hostname.optional().describe("the host's full name when it is not <host>.<domain>"),
  adminaddr: emailAddress.optional().describe("where mail for local users (root, cron) ends up"),
  relay: relaySettings.partial().optional(),
  transport: transportLevel.optional(),
  nullmailer: nullmailerSettings.optional(),
  postfix: postfixSettings.optional(),
  secretsVersion: singleLine
    .optional()
    .describe("any label; change it after rotating a secret so Terraform re-applies the hosts that use it (values are never hashed)"),
};
export const settings = z.strictObject(settingsShape);
export type Settings = z.infer<typeof settings>;

export const groupSettings = z.strictObject({
  ...settingsShape,
  hosts: z.record(z.string(), settings.nullable()).optional(),
});

const hostNameKey = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export const inventoryFile = z.strictObject({
  defaults: settings.optional(),
  groups: z.record(z.string(), groupSettings).optional(),
  hosts: z.record(z.string(), settings.nullable()).optional(),
});
export type InventoryFile = z.infer<typeof inventoryFile>;

export const hostConfig = z.strictObject({
  ...settingsShape,
  platform: z.enum(PLATFORM_NAMES),
  roles: z.array(z.enum(ROLE_NAMES)).min(1, "at least one role"),
  domain: hostname,
  relay: relaySettings.optional(),
  transport: transportSettings.default({ type: "local" }),
});
export type HostSettings = z.infer<typeof hostConfig>;

export function isValidHostName(name: string): boolean {
  return hostNameKey.test(name);
}

/** JSON Schema of the inventory file, for editors (yaml-language-server). */
export function inventoryJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(inventoryFile, { target: "draft-2020-12", io: "input" }) as Record<string, unknown>;
  return {
    $id: "https://mailfleet.dev/schema/inventory.schema.json",
    title: "mailfleet inventory",
    ...schema,
  };
}
