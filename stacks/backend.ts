// Where Terraform keeps the fleet's state. Settings use Terraform's own names
// (as `terraform init -backend-config`); anything that is a credential is
// refused here and read by Terraform from its environment instead, so it is
// never written into the synthesized JSON.
import path from "node:path";
import { TerraformBackend, type TerraformRemoteState } from "./cdktf.ts";
import type { Construct } from "constructs";

export const BACKEND_TYPES = ["local", "pg", "s3"] as const;
export type BackendType = (typeof BACKEND_TYPES)[number];

export class StackError extends Error {
  override name = "StackError";
}

interface BackendRules {
  /** Settings accepted; for s3 any other key Terraform knows is passed through (the list is long and grows). */
  known: readonly string[];
  passThrough: boolean;
  /** Credentials: refused, with the environment variable to use instead. */
  secret: Readonly<Record<string, string>>;
}

const RULES: Record<BackendType, BackendRules> = {
  local: { known: ["path", "workspace_dir"], passThrough: false, secret: {} },
  pg: {
    known: ["schema_name", "skip_schema_creation", "skip_table_creation", "skip_index_creation"],
    passThrough: false,
    secret: { conn_str: "PG_CONN_STR (or the libpq variables PGHOST, PGUSER, PGPASSWORD, ...)" },
  },
  s3: {
    known: ["bucket", "key", "region", "use_lockfile", "dynamodb_table", "encrypt", "kms_key_id", "workspace_key_prefix", "profile"],
    passThrough: true,
    secret: {
      access_key: "AWS_ACCESS_KEY_ID",
      secret_key: "AWS_SECRET_ACCESS_KEY",
      token: "AWS_SESSION_TOKEN",
      sse_customer_key: "AWS_SSE_CUSTOMER_KEY",
    },
  },
};

/** `key=value` pairs from the command line; later ones win. */
export function parseBackendConfig(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf("=");
    const key = eq > 0 ? p.slice(0, eq).trim() : "";
    if (!/^[a-z][a-z0-9_]*$/.test(key)) {
      throw new StackError(`--backend-config ${JSON.stringify(p)}: expected key=value with a Terraform setting name (lowercase, e.g. schema_name=mailfleet)`);
    }
    out[key] = p.slice(eq + 1);
  }
  return out;
}

export interface BackendSettings {
  type: BackendType;
  /** Terraform's setting names, values as Terraform reads them. */
  attributes: Record<string, string | boolean>;
}

/**
 * Checks the settings for `type` and fills in defaults. Relative paths given
 * for the local backend are taken from the current directory and written
 * relative to the stack directory, as Terraform runs there.
 */
export function backendSettings(
  type: string,
  config: Record<string, string>,
  ctx: { stackName: string; stackDir: string; inventoryDir: string; /** One stack of several (synth --split-by): its part's name. */ part?: string },
): BackendSettings {
  if (!(BACKEND_TYPES as readonly string[]).includes(type)) {
    throw new StackError(`--backend ${type} is not supported; use one of ${BACKEND_TYPES.join(", ")}`);
  }
  const t = type as BackendType;
  const rules = RULES[t];
  for (const key of Object.keys(config)) {
    const envInstead = rules.secret[key];
    if (envInstead) {
      throw new StackError(
        `--backend-config ${key} is a credential and would be written into the stack's JSON; set ${envInstead} in Terraform's environment instead`,
      );
    }
    if (!rules.passThrough && !rules.known.includes(key)) {
      throw new StackError(`--backend-config ${key} is not a setting of the ${t} backend; allowed: ${rules.known.join(", ")}`);
    }
  }
  if (ctx.part !== undefined) {
    const own = { local: "path", pg: undefined, s3: "key" }[t];
    if (own && config[own] !== undefined) {
      throw new StackError(`--backend-config ${own} names one state, and --split-by writes several stacks, each with its own state; leave ${own} out (each stack gets ${t === "local" ? "terraform.<stack>.tfstate beside the inventory" : "mailfleet/<stack>.tfstate"})`);
    }
  }
  const rel = (p: string) => path.relative(ctx.stackDir, path.resolve(p)).split(path.sep).join("/") || ".";
  switch (t) {
    case "local": {
      // Beside the inventory, not inside the (disposable) output directory, and never as a build machine's absolute path.
      const state = config.path ? rel(config.path) : rel(path.join(ctx.inventoryDir, `terraform.${ctx.stackName}.tfstate`));
      return { type: t, attributes: { ...config, path: state, ...(config.workspace_dir ? { workspace_dir: rel(config.workspace_dir) } : {}) } };
    }
    case "pg": {
      if (ctx.part === undefined) return { type: t, attributes: { ...config } };
      // One schema per stack: the pg backend keys a state by workspace name within its schema, so stacks sharing one would share the state.
      const schema = `${config.schema_name ?? "terraform_remote_state"}_${ctx.part.toLowerCase().replace(/[^a-z0-9_]/g, "_")}`;
      if (schema.length > 63) throw new StackError(`the pg schema ${schema} of stack ${ctx.stackName} is longer than PostgreSQL's 63 characters; use a shorter schema_name or part name`);
      return { type: t, attributes: { ...config, schema_name: schema } };
    }
    case "s3":
      if (!config.bucket) throw new StackError("--backend s3 needs --backend-config bucket=NAME (and region=, unless AWS_REGION is set)");
      // S3's own lock file (Terraform >= 1.10): without a lock, two applies could write the state at once.
      return { type: t, attributes: { key: `mailfleet/${ctx.stackName}.tfstate`, use_lockfile: "true", ...config } };
  }
}

/** A Terraform backend block written as given (cdktf's PgBackend would insist on a conn_str). */
export class FleetBackend extends TerraformBackend {
  constructor(
    scope: Construct,
    private readonly settings: BackendSettings,
  ) {
    super(scope, "backend", settings.type);
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { ...this.settings.attributes };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return { ...this.settings.attributes };
  }

  getRemoteStateDataSource(): TerraformRemoteState {
    throw new StackError("a mailfleet stack does not read other stacks' state");
  }
}
