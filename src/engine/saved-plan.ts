// A saved plan (`mailfleet plan --out FILE`, as `terraform plan -out`): what
// plan found on every selected host, applied later exactly as reviewed by
// `mailfleet apply FILE`. It holds no secret: diffs are masked and scrubbed,
// and a host's desired state and facts are there only as SHA-256 hashes (the
// facts without the lines that hold a secret or a count of queued mail, see
// scripts.ts factsHash). The format is docs/plan-format.md. Pure: reading and
// writing the file is the caller's.
import { createHash } from "node:crypto";
import { z } from "zod";
import { scrub } from "../inventory/secrets.ts";
import { resourceKinds, type ResourceKind } from "../resources/index.ts";
import type { Change } from "../resources/types.ts";
import { canonicalJson } from "./fingerprint.ts";
import type { HostPlan } from "./plan.ts";

export const PLAN_KIND = "mailfleet-plan";
export const PLAN_FORMAT = 1;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "a SHA-256 in hex");
const actions = ["create", "update", "delete", "install", "remove", "start", "restart", "reload", "move", "wrap", "unwrap", "run", "skip", "keep"] as const;
/** A kind known to this mailfleet: the generic ones and those of the roles loaded (read when a plan is checked, after the roles are). */
const kind = z.custom<ResourceKind>((v) => typeof v === "string" && resourceKinds().includes(v), { message: "a resource kind of this mailfleet" });

const change = z.strictObject({
  id: z.string(),
  kind,
  action: z.enum(actions),
  target: z.string(),
  summary: z.string(),
  diff: z.string().optional(),
  data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  conflict: z.string().optional(),
}) satisfies z.ZodType<Change>;

const savedHost = z.strictObject({
  host: z.string(),
  transport: z.string(),
  platform: z.string(),
  desired_sha256: sha256,
  facts_sha256: sha256,
  changes: z.array(change),
  skipped: z.array(change),
  kept: z.array(change),
});

const savedPlanSchema = z.strictObject({
  kind: z.literal(PLAN_KIND),
  format_version: z.literal(PLAN_FORMAT),
  mailfleet: z.strictObject({ version: z.string(), build: z.string() }),
  created: z.string(),
  inventory: z.strictObject({ file: z.string(), sha256 }),
  selection: z.strictObject({ limit: z.array(z.string()), hosts: z.array(z.string()), sha256 }),
  hosts: z.array(savedHost),
  checksum: sha256,
});

export type SavedHost = z.infer<typeof savedHost>;
export type SavedPlan = z.infer<typeof savedPlanSchema>;

/** The plan file cannot be used: not a plan, another format, damaged, or made from something else than what is here now. */
export class PlanFileError extends Error {
  override name = "PlanFileError";
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function checksumOf(doc: Omit<SavedPlan, "checksum">): string {
  return sha256Hex(canonicalJson(doc));
}

/** The document with its checksum: SHA-256 of its canonical JSON (sorted keys) without the checksum. */
export function sealPlan(doc: Omit<SavedPlan, "checksum">): SavedPlan {
  return { ...doc, checksum: checksumOf(doc) };
}

export function selectionHash(limit: readonly string[], hosts: readonly string[]): string {
  return sha256Hex(canonicalJson({ limit, hosts }));
}

export interface SavedPlanInput {
  version: { version: string; build: string };
  /** The inventory as the plan read it: its path as given (relative to where mailfleet runs) and its bytes. */
  inventory: { file: string; bytes: Buffer };
  limit: readonly string[];
  plans: readonly HostPlan[];
  /** Desired-state hash of each host (secrets masked, see fingerprint.ts). */
  desired: ReadonlyMap<string, string>;
  /** Every secret value the plan revealed: scrubbed from every text, as in printed output. */
  secrets: readonly string[];
  now: Date;
}

/** The document `plan --out` writes. */
export function savedPlan(i: SavedPlanInput): SavedPlan {
  const clean = (c: Change): Change => JSON.parse(scrub(JSON.stringify(c), i.secrets)) as Change;
  const hosts = i.plans.map(
    (p): SavedHost => ({
      host: p.host,
      transport: p.transport,
      platform: p.platform,
      desired_sha256: i.desired.get(p.host) ?? "",
      facts_sha256: p.facts,
      changes: p.changes.map(clean),
      skipped: p.skipped.map(clean),
      kept: p.kept.map(clean),
    }),
  );
  const names = hosts.map((h) => h.host);
  const doc: Omit<SavedPlan, "checksum"> = {
    kind: PLAN_KIND,
    format_version: PLAN_FORMAT,
    mailfleet: { ...i.version },
    created: i.now.toISOString(),
    inventory: { file: i.inventory.file, sha256: sha256Hex(i.inventory.bytes) },
    selection: { limit: [...i.limit], hosts: names, sha256: selectionHash(i.limit, names) },
    hosts,
  };
  return sealPlan(doc);
}

export function serializePlan(doc: SavedPlan): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Reads a plan file's text: a mailfleet plan of this format, whole and unedited, or a PlanFileError saying which it is not. */
export function parsePlan(text: string, file: string): SavedPlan {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PlanFileError(`${file} is not a mailfleet plan (not JSON); make one with mailfleet plan --out ${file}`);
  }
  const head = json as { kind?: unknown; format_version?: unknown } | null;
  if (!head || typeof head !== "object" || head.kind !== PLAN_KIND) {
    throw new PlanFileError(`${file} is not a mailfleet plan (no "kind": "${PLAN_KIND}"); make one with mailfleet plan --out ${file}`);
  }
  if (head.format_version !== PLAN_FORMAT) {
    throw new PlanFileError(`${file} is a plan of format_version ${JSON.stringify(head.format_version)}; this mailfleet reads format_version ${PLAN_FORMAT}: plan again`);
  }
  const r = savedPlanSchema.safeParse(json);
  if (!r.success) {
    const where = r.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`);
    throw new PlanFileError(`${file} is damaged: ${where.join("; ")}`);
  }
  const { checksum, ...rest } = r.data;
  if (checksumOf(rest) !== checksum) throw new PlanFileError(`${file} is damaged or was edited (its checksum does not match its content): plan again`);
  if (rest.selection.sha256 !== selectionHash(rest.selection.limit, rest.selection.hosts)) throw new PlanFileError(`${file} is damaged: its selection does not match its hash`);
  const listed = rest.hosts.map((h) => h.host);
  if (listed.join("\n") !== rest.selection.hosts.join("\n")) throw new PlanFileError(`${file} is damaged: its hosts are not its selection`);
  return r.data;
}

export interface CurrentState {
  version: { version: string; build: string };
  inventory: { file: string; bytes: Buffer };
  /** Names of the inventory's hosts now. */
  hosts: readonly string[];
}

/**
 * Refuses a plan made by another mailfleet or from another inventory (its
 * contents: the path may differ between checkouts). Every problem is listed.
 */
export function checkPlanOrigin(doc: SavedPlan, file: string, now: CurrentState): void {
  const problems: string[] = [];
  const made = doc.mailfleet;
  if (made.version !== now.version.version || made.build !== now.version.build) {
    problems.push(`it was made by mailfleet ${made.version} (build ${made.build}); this is mailfleet ${now.version.version} (build ${now.version.build})`);
  }
  const digest = sha256Hex(now.inventory.bytes);
  if (digest !== doc.inventory.sha256) {
    problems.push(`it was made from another inventory: ${doc.inventory.file} had sha256 ${doc.inventory.sha256.slice(0, 12)}…, ${now.inventory.file} has ${digest.slice(0, 12)}…`);
  }
  const missing = doc.hosts.map((h) => h.host).filter((h) => !now.hosts.includes(h));
  if (missing.length && digest === doc.inventory.sha256) problems.push(`hosts of the plan are not in the inventory: ${missing.join(", ")}`);
  if (problems.length) throw new PlanFileError(`refusing ${file}: ${problems.join("; ")}; nothing was changed: plan again`, problems);
}

/** The plan of one host as the engine applies it. */
export function hostPlanOf(h: SavedHost, transport: string): HostPlan {
  return { host: h.host, transport, platform: h.platform, facts: h.facts_sha256, changes: h.changes, skipped: h.skipped, kept: h.kept };
}
