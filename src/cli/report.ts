// Human and JSON views of plans and apply results. Every string passes through
// `scrub` so no revealed secret can reach the terminal or a CI log.
import pc from "picocolors";
import { scrub } from "../inventory/secrets.ts";
import type { Change } from "../resources/types.ts";
import type { HostOutcome } from "../engine/fleet.ts";
import type { ApplyResult } from "../engine/host.ts";
import { countActions, type HostPlan } from "../engine/plan.ts";
import { hostPlanOf, type SavedPlan } from "../engine/saved-plan.ts";

const SIGN: Record<Change["action"], string> = {
  create: "+",
  install: "+",
  update: "~",
  move: "~",
  wrap: "~",
  unwrap: "~",
  start: "~",
  restart: "~",
  reload: "~",
  run: "~",
  delete: "-",
  remove: "-",
  skip: "·",
  keep: "=",
};

function colorSign(c: Change): string {
  const s = SIGN[c.action];
  if (s === "+") return pc.green(s);
  if (s === "-") return pc.red(s);
  if (s === "·") return pc.dim(s);
  return pc.yellow(s);
}

export function colorDiff(diff: string): string {
  return diff
    .split("\n")
    .map((l) => {
      if (l.startsWith("+++") || l.startsWith("---")) return pc.bold(l);
      if (l.startsWith("+")) return pc.green(l);
      if (l.startsWith("-")) return pc.red(l);
      if (l.startsWith("@@")) return pc.cyan(l);
      return l;
    })
    .join("\n");
}

export function summaryLine(plan: HostPlan): string {
  const n = countActions(plan);
  if (plan.changes.length === 0) return "no changes";
  return `${n.add} to add, ${n.change} to change, ${n.remove} to remove`;
}

/**
 * One host's plan. A host with nothing to do is one line, "no changes" and
 * how many steps a sandbox skips (what it keeps, such as a Maildir, is still
 * listed); the steps a sandbox skips are listed where there is work to do.
 */
export function formatPlan(plan: HostPlan, secrets: readonly string[]): string {
  if (plan.changes.length === 0) {
    const n = plan.skipped.length;
    const skipped = n ? `, ${n} step${n === 1 ? "" : "s"} skipped under a root prefix` : "";
    const head = pc.bold(plan.host) + pc.dim(` (${plan.platform}, ${plan.transport}${skipped})`);
    return scrub([`${head}: ${pc.green("no changes")}`, ...plan.kept.map((c) => `  ${pc.cyan(SIGN.keep)} ${c.summary}`)].join("\n"), secrets);
  }
  const out: string[] = [pc.bold(`${plan.host}`) + pc.dim(` (${plan.platform}, ${plan.transport})`)];
  for (const c of plan.changes) {
    out.push(`  ${colorSign(c)} ${c.summary}`);
    if (c.diff) out.push(colorDiff(c.diff).replace(/^/gm, "      "));
  }
  for (const c of plan.kept) out.push(`  ${pc.cyan(SIGN.keep)} ${c.summary}`);
  for (const c of plan.skipped) out.push(pc.dim(`  ${SIGN.skip} ${c.summary}`));
  out.push(`  ${pc.bold(summaryLine(plan))}`);
  return scrub(out.join("\n"), secrets);
}

export function formatFailure(o: HostOutcome<unknown>, secrets: readonly string[]): string {
  const detail = o.detail ? `\n${o.detail.replace(/^/gm, "    ")}` : "";
  return scrub(`${pc.bold(o.host)}: ${pc.red("error")}: ${o.error}${detail}`, secrets);
}

/** Every failure of a run with its reason, for the end of the output. */
export function failureSummary(failures: readonly HostOutcome<unknown>[], secrets: readonly string[]): string {
  const head = pc.red(pc.bold(`${failures.length} host${failures.length === 1 ? "" : "s"} failed:`));
  return [head, ...failures.map((f) => formatFailure(f, secrets).replace(/^/gm, "  "))].join("\n");
}

export function formatApply(r: ApplyResult, secrets: readonly string[]): string {
  const n = r.applied.length;
  const head = pc.bold(r.plan.host);
  if (n === 0) return `${head}: ${pc.green("no changes")}`;
  const verify = r.remaining.length === 0 ? pc.green("verified") : pc.red(`NOT converged: ${r.remaining.map((c) => c.summary).join("; ")}`);
  return scrub(`${head}: applied ${n} change${n === 1 ? "" : "s"}, ${verify}`, secrets);
}

export function planJson(outcomes: HostOutcome<HostPlan>[], secrets: readonly string[]): string {
  const hosts = outcomes.map((o) =>
    o.ok && o.value
      ? {
          host: o.host,
          transport: o.value.transport,
          platform: o.value.platform,
          changes: o.value.changes,
          kept: o.value.kept,
          skipped: o.value.skipped,
          public_keys: o.value.publicKeys ?? [],
        }
      : { host: o.host, error: o.error, detail: o.detail },
  );
  const changes = outcomes.reduce((n, o) => n + (o.value?.changes.length ?? 0), 0);
  return scrub(JSON.stringify({ format_version: 1, changes, errors: outcomes.filter((o) => !o.ok).length, hosts }, null, 2), secrets);
}

export function applyJson(outcomes: HostOutcome<HostPlan>[], applied: HostOutcome<ApplyResult>[], secrets: readonly string[]): string {
  const hosts = outcomes.map((o) => {
    const a = applied.find((x) => x.host === o.host);
    return {
      host: o.host,
      error: o.error ?? a?.error,
      changes: o.value?.changes ?? [],
      applied: a?.value?.applied ?? [],
      remaining: a?.value?.remaining ?? [],
      public_keys: a?.value?.publicKeys ?? o.value?.publicKeys ?? [],
    };
  });
  return scrub(JSON.stringify({ format_version: 1, hosts }, null, 2), secrets);
}

function savedCounts(doc: SavedPlan): string {
  const n = doc.hosts.length;
  const changed = doc.hosts.filter((h) => h.changes.length > 0).length;
  return `${n} host${n === 1 ? "" : "s"}, ${changed ? `${changed} with changes` : "no changes"}`;
}

/** The first line of `apply FILE`. */
export function savedPlanHeader(doc: SavedPlan, file: string): string {
  return pc.bold(`Applying the plan saved in ${file} (made ${doc.created} from ${doc.inventory.file}): ${savedCounts(doc)}`);
}

/** `mailfleet show FILE`: the plan as plan printed it (secrets were masked when it was saved). */
export function formatSavedPlan(doc: SavedPlan, file: string): string {
  const head = `${pc.bold(file)}: a plan made ${doc.created} by mailfleet ${doc.mailfleet.version} from ${doc.inventory.file}${doc.selection.limit.length ? ` --limit ${doc.selection.limit.join(",")}` : ""}`;
  return [head, ...doc.hosts.map((h) => formatPlan(hostPlanOf(h, h.transport), [])), pc.bold(`Plan: ${savedCounts(doc)}`)].join("\n");
}
