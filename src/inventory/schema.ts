// The inventory's shape. Each level (defaults, group, host) takes the same
// settings; the merged result of the three must satisfy `hostConfig`.
import { z } from "zod";
import { nullmailerSettings } from "../../roles/nullmailer/schema.ts";
import { emailAddress, hostname, localPath, port, relayHost, secretRef, singleLine, absolutePath } from "./fields.ts";

export const ROLE_NAMES = ["nullmailer"] as const;
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

export const transportSettings = z.discriminatedUnion("type", [localTransport]);

/** What every level may set. Everything is optional here; `hostConfig` says what is required. */
export const settingsShape = {
  platform: z.enum(PLATFORM_NAMES).optional(),
  roles: z.array(z.enum(ROLE_NAMES)).optional(),
  domain: hostname.optional().describe("mail domain; the host's name is <host>.<domain>"),
  fqdn: hostname.optional().describe("the host's full name when it is not <host>.<domain>"),
  adminaddr: emailAddress.optional().describe("where mail for local users (root, cron) ends up"),
  relay: relaySettings.partial().optional(),
  transport: transportSettings.optional(),
  nullmailer: nullmailerSettings.optional(),
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
