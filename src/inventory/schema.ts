// The inventory's shape. Each level (defaults, group, host) takes the same
// settings: the core ones below, plus a section per role setting (e.g.
// `nullmailer:`), composed from the catalog the caller passes (the role
// registry); the merged result of the three levels must satisfy `hostConfig`.
import { z } from "zod";
import { absolutePath, emailAddress, hostname, ipAddress, port, relayHost, secretRef, singleLine } from "./fields.ts";
import { builtinTransports, transportLevelUnion, transportUnion, type TransportSchema, type TransportSettings } from "./transport-schema.ts";

export {
  builtinTransports,
  jexecTransport,
  localTransport,
  sshConnection,
  sshTransport,
  zloginTransport,
  type TransportSchema,
  type TransportSettings,
} from "./transport-schema.ts";

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

/** The settings every host has, whatever its roles, its transport one of `transports`. Everything is optional at a level; `hostConfig` says what is required. */
const coreShape = (transports: readonly TransportSchema[]) => ({
  domain: hostname.optional().describe("mail domain; the host's name is <host>.<domain>"),
  fqdn: hostname.optional().describe("the host's full name when it is not <host>.<domain>"),
  adminaddr: emailAddress.optional().describe("where mail for local users (root, cron) ends up"),
  address: ipAddress
    .optional()
    .describe("the IP address the host sends mail from (a hub lets it relay); default its ssh address when that is an IP address"),
  relay: relaySettings.partial().optional(),
  transport: transportLevelUnion(transports).optional(),
  secretsVersion: singleLine
    .optional()
    .describe("any label; change it after rotating a secret so Terraform re-applies the hosts that use it (values are never hashed)"),
});

const CORE_KEYS = new Set(["platform", "roles", ...Object.keys(coreShape(builtinTransports))]);

/** The core settings of a merged host (role sections are typed by their roles). */
export interface CoreSettings {
  platform: string;
  roles: string[];
  domain: string;
  fqdn?: string;
  adminaddr?: string;
  address?: string;
  relay?: z.output<typeof relaySettings>;
  transport: TransportSettings;
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

/** What the schema needs of the catalog (see catalog.ts InventoryCatalog): the names, each role's sections, the transports. */
export interface SchemaCatalog {
  platforms: readonly string[];
  transports: readonly TransportSchema[];
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
    ...coreShape(catalog.transports),
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
    transport: transportUnion(catalog.transports).default({ type: "local" }),
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
