// The mailfleet command: validate | render | plan | apply | queue | synth | schema.
// It parses arguments and prints; the engine decides what runs. Each command
// loads what it needs when it runs (the inventory machinery, the transports,
// cdktf), so `--help` and `validate` start fast.
import { createInterface } from "node:readline/promises";
import { Command, CommanderError, Option } from "commander";
import pc from "picocolors";
import type { HostConfig, Inventory } from "../inventory/catalog.ts";
import { DEFAULT_PARALLEL, type HostOutcome } from "../engine/fleet.ts";
import type { HostPlan } from "../engine/plan.ts";
import type { Confirmation } from "../engine/run.ts";
import type { SynthCommandOptions } from "./synth.ts";

interface CommonOptions {
  inventory: string;
  /** How -i got its value: "cli", "env" ($MAILFLEET_INVENTORY) or "default". */
  inventorySource?: string;
  limit: string[];
  json?: boolean;
  parallel: number;
  timeout?: number;
  secretTimeout: number;
  untrusted?: boolean;
}

const out = (s: string) => process.stdout.write(s.endsWith("\n") ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith("\n") ? s : `${s}\n`);

function positiveInt(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new CommanderError(1, "mailfleet.badOption", `${name} needs a whole number >= 1, got '${v}'`);
    return n;
  };
}

/** Where -i came from, for an inventory file that is not there: the default and the environment are not what the user typed. */
const INVENTORY_SOURCE_HINT: Record<string, string> = {
  default: "-i was not given, so mailfleet looked for inventory.yaml in the working directory; name the inventory with -i FILE or $MAILFLEET_INVENTORY",
  env: "the path came from $MAILFLEET_INVENTORY",
};

/** An inventory file that cannot be read, with how the path was chosen. */
class InventoryPathError extends Error {
  override name = "InventoryPathError";
}

function withHint(e: unknown, hint: string | undefined): never {
  if (hint && e instanceof Error && e.name === "InventoryFileError") throw new InventoryPathError(`${e.message} (${hint})`);
  throw e;
}

/** What has no effect where the inventory sets it, on stderr: nothing is refused for it. */
function showWarnings(inventory: Inventory, format: (p: Inventory["warnings"][number]) => string): void {
  for (const w of inventory.warnings) err(format(w));
}

async function load(opts: CommonOptions): Promise<{ inventory: Inventory; hosts: HostConfig[] }> {
  const [{ loadInventory, formatProblem }, { selectHosts }] = await Promise.all([import("./inventory.ts"), import("./select.ts")]);
  let inventory: Inventory;
  try {
    inventory = loadInventory(opts.inventory, { untrusted: opts.untrusted });
  } catch (e) {
    withHint(e, INVENTORY_SOURCE_HINT[opts.inventorySource ?? ""]);
  }
  showWarnings(inventory, formatProblem);
  return { inventory, hosts: selectHosts(inventory.hosts, opts.limit) };
}

function withCommon(cmd: Command, fleet = true): Command {
  cmd
    .addOption(
      new Option("-i, --inventory <file>", "inventory file").env("MAILFLEET_INVENTORY").default("inventory.yaml"),
    )
    .hook("preAction", (c) => {
      c.setOptionValue("inventorySource", c.getOptionValueSource("inventory"));
    })
    .option("--limit <patterns>", "only these hosts or groups (globs, comma-separated, repeatable)", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option("--json", "machine-readable output")
    .option("--untrusted", "the inventory is under review: refuse anything that would run a command on this machine ({ command } secrets, transport.allowLocalCommands)");
  if (fleet) {
    cmd
      .option("--parallel <n>", "hosts at once", positiveInt("--parallel"), DEFAULT_PARALLEL)
      .option("--timeout <seconds>", "per host and step", positiveInt("--timeout"))
      .option("--secret-timeout <seconds>", "how long a { command: ... } secret may run", positiveInt("--secret-timeout"), 10);
  }
  return cmd;
}

/** Up to this many hosts are named on validate's line; more are counted by group. */
const NAMED_HOSTS = 10;

function validSummary(file: string, hosts: readonly HostConfig[], list: boolean): string {
  const n = (k: number, what: string) => `${k.toLocaleString("en-US")} ${what}${k === 1 ? "" : "s"}`;
  if (list) return [`inventory ${file} is valid: ${n(hosts.length, "host")}`, ...hosts.map((h) => h.name)].join("\n");
  if (hosts.length <= NAMED_HOSTS) return `inventory ${file} is valid: ${n(hosts.length, "host")} (${hosts.map((h) => h.name).join(", ")})`;
  const groups = new Map<string, number>();
  for (const h of hosts) groups.set(h.group ?? "(no group)", (groups.get(h.group ?? "(no group)") ?? 0) + 1);
  const named = [...groups].map(([g, k]) => `${g} ${k.toLocaleString("en-US")}`).join(", ");
  return `inventory ${file} is valid: ${n(hosts.length, "host")} in ${n(groups.size, "group")} (${named}); --hosts lists them`;
}

function fleetSummary(outcomes: HostOutcome<HostPlan>[]): string {
  const withChanges = outcomes.filter((o) => o.value && o.value.changes.length > 0);
  const failed = outcomes.filter((o) => !o.ok);
  const parts = [`${outcomes.length} host${outcomes.length === 1 ? "" : "s"}`];
  parts.push(withChanges.length ? `${withChanges.length} with changes` : "no changes");
  if (failed.length) parts.push(pc.red(`${failed.length} failed: ${failed.map((f) => f.host).join(", ")}`));
  return `Plan: ${parts.join(", ")}`;
}

async function ask(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(question);
    return answer.trim() === "yes";
  } finally {
    rl.close();
  }
}

/** The inventory and the modules a fleet run (plan, apply) needs. */
async function fleetModules(opts: CommonOptions) {
  const { inventory, hosts } = await load(opts);
  const [run, { fleetProgress }, report, path] = await Promise.all([
    import("../engine/run.ts"),
    import("./progress.ts"),
    import("./report.ts"),
    import("node:path"),
  ]);
  type Transports = Parameters<Parameters<typeof run.withTransports>[0]>[0];
  /** Plans the selected hosts, showing progress on stderr. */
  const plan = async (transports: Transports) => {
    const progress = fleetProgress("plan", hosts.length, { stream: process.stderr, quiet: opts.json });
    try {
      return await run.planFleet(
        hosts,
        {
          parallel: opts.parallel,
          timeoutMs: timeoutMs(opts),
          secretsCwd: path.dirname(inventory.file),
          secretTimeoutMs: opts.secretTimeout * 1000,
          fleet: inventory.hosts,
          onStart: (h) => progress.started(h),
          onPlanned: (o) => progress.done(o, o.value ? report.summaryLine(o.value) : undefined),
        },
        transports,
      );
    } finally {
      progress.end();
    }
  };
  return { inventory, hosts, run, report, fleetProgress, plan };
}

const timeoutMs = (opts: CommonOptions) => (opts.timeout ? opts.timeout * 1000 : undefined);

type RunModule = typeof import("../engine/run.ts");
type ReportModule = typeof import("./report.ts");
type ProgressModule = typeof import("./progress.ts");

/**
 * Applies a plan (made now, or read from a file), showing progress on stderr
 * and each host's result above it as it finishes, then the summary. Sets the exit code.
 */
async function applyAndReport(
  m: { run: RunModule; report: ReportModule; fleetProgress: ProgressModule["fleetProgress"] },
  plan: Awaited<ReturnType<RunModule["planFleet"]>>,
  opts: CommonOptions,
  confirm: (n: number) => Promise<Confirmation>,
  setCode: (n: number) => void,
): Promise<void> {
  const revealed = () => plan.secrets.revealed();
  const todo = plan.outcomes.filter((o) => o.ok && o.value && o.value.changes.length > 0).length;
  const progress = m.fleetProgress("apply", todo, { stream: process.stderr, quiet: true });
  let result: Awaited<ReturnType<RunModule["applyFleet"]>>;
  try {
    result = await m.run.applyFleet(plan, {
      parallel: opts.parallel,
      confirm,
      onStart: (h) => progress.started(h),
      onApplied: (o) => {
        progress.done(o);
        if (!opts.json) progress.print(() => out(o.ok && o.value ? m.report.formatApply(o.value, revealed()) : m.report.formatFailure(o, revealed())));
      },
    });
  } finally {
    progress.end();
  }
  if (result === "needs --yes" || result === "no") {
    const refused = result === "no" ? { kind: "cancelled" as const, message: "apply cancelled" } : { kind: "confirmation" as const, message: "apply needs confirmation; not on a terminal, so pass --yes" };
    err(result === "no" ? refused.message : `mailfleet: ${refused.message}`);
    if (opts.json) out(errorJson(refused));
    return setCode(1);
  }
  if (opts.json) out(m.report.applyJson(plan.outcomes, result.applied, revealed()));
  else {
    const ok = result.applied.filter((a) => a.ok).length;
    out(pc.bold(`Apply: ${ok} host${ok === 1 ? "" : "s"} changed, ${result.unchanged} unchanged${result.failures.length ? pc.red(`, ${result.failures.length} failed`) : ""}`));
    if (result.failures.length) err(m.report.failureSummary(result.failures, revealed()));
  }
  setCode(result.failures.length > 0 || result.notConverged.length > 0 ? 1 : 0);
}

/** `mailfleet apply FILE`: the saved plan, exactly, on the hosts it names, without asking (as terraform apply FILE). */
async function applySavedPlan(file: string, opts: CommonOptions & { host: string[] }, inventoryGiven: boolean, setCode: (n: number) => void): Promise<void> {
  const [planFile, { loadInventory, formatProblem }, run, { fleetProgress }, report, path, version] = await Promise.all([
    import("./plan-file.ts"),
    import("./inventory.ts"),
    import("../engine/run.ts"),
    import("./progress.ts"),
    import("./report.ts"),
    import("node:path"),
    import("../engine/version.ts"),
  ]);
  const doc = planFile.readPlanFile(file);
  if (opts.limit.length) {
    throw new planFile.PlanFileError(`--limit does not narrow a saved plan: ${file} applies the hosts it was made for (${doc.selection.hosts.join(", ")}); plan again with --limit, or apply one host's part with --host NAME`);
  }
  const hostsGiven = opts.host.flatMap((h) => h.split(",")).map((h) => h.trim()).filter(Boolean);
  const strangers = hostsGiven.filter((h) => !doc.selection.hosts.includes(h));
  if (strangers.length) throw new planFile.PlanFileError(`--host ${strangers.join(", ")}: not in the plan ${file} (its hosts: ${doc.selection.hosts.join(", ")})`);
  const inventoryFile = inventoryGiven ? opts.inventory : doc.inventory.file;
  let inventory: Inventory;
  try {
    inventory = loadInventory(inventoryFile);
  } catch (e) {
    const hint = `the plan ${file} was made from ${doc.inventory.file}, a path relative to the directory \`mailfleet plan\` ran in; run apply there or pass -i with the inventory's path`;
    withHint(e, inventoryGiven ? INVENTORY_SOURCE_HINT[opts.inventorySource ?? ""] : hint);
  }
  showWarnings(inventory, formatProblem);
  planFile.checkOrigin(doc, file, inventoryFile, inventory, { version: version.MAILFLEET_VERSION, build: version.MAILFLEET_BUILD });
  await run.withTransports(async (transports) => {
    const part = hostsGiven.length ? { ...doc, hosts: doc.hosts.filter((h) => hostsGiven.includes(h.host)) } : doc;
    const plan = run.savedPlanRun(part, file, inventory.hosts, { secretsCwd: path.dirname(inventory.file), secretTimeoutMs: opts.secretTimeout * 1000, timeoutMs: timeoutMs(opts) }, transports);
    if (!opts.json) out(report.savedPlanHeader(part, file));
    await applyAndReport({ run, report, fleetProgress }, plan, opts, async () => "yes", setCode);
  });
}

/** `synth --plan FILE`: the stack applies the reviewed plan; its hosts are the plan's, from the inventory it was made from. */
async function synthFromPlan(file: string, opts: CommonOptions & SynthCommandOptions, inventoryGiven: boolean): Promise<void> {
  const [planFile, { loadInventory, formatProblem }, { runSynth, synthSummary }, version] = await Promise.all([
    import("./plan-file.ts"),
    import("./inventory.ts"),
    import("./synth.ts"),
    import("../engine/version.ts"),
  ]);
  const doc = planFile.readPlanFile(file);
  if (opts.limit.length) throw new planFile.PlanFileError(`--limit does not narrow a saved plan: the stack takes the hosts ${file} was made for (${doc.selection.hosts.join(", ")}); plan again with --limit`);
  const inventoryFile = inventoryGiven ? opts.inventory : doc.inventory.file;
  let inventory: Inventory;
  try {
    inventory = loadInventory(inventoryFile, { untrusted: opts.untrusted });
  } catch (e) {
    withHint(e, `the plan ${file} was made from ${doc.inventory.file}, a path relative to the directory \`mailfleet plan\` ran in; run synth there or pass -i with the inventory's path`);
  }
  showWarnings(inventory, formatProblem);
  planFile.checkOrigin(doc, file, inventoryFile, inventory, { version: version.MAILFLEET_VERSION, build: version.MAILFLEET_BUILD });
  const hosts = doc.selection.hosts.map((name) => inventory.hosts.find((h) => h.name === name)!);
  const result = await runSynth(inventory, hosts, opts, doc);
  out(opts.json ? JSON.stringify(result, null, 2) : synthSummary(result));
}

/** `synth --refresh`: the plan of the selected hosts, made now; undefined (exit 1, the failures shown) when a host could not be planned. */
async function refreshedPlan(opts: CommonOptions, setCode: (n: number) => void) {
  const { run, report, plan, inventory } = await fleetModules(opts);
  const { outcomes, secrets } = await run.withTransports(plan);
  const revealed = secrets.revealed();
  const failures = outcomes.filter((o) => !o.ok);
  if (failures.length) {
    err(report.failureSummary(failures, revealed));
    err(`mailfleet: nothing was synthesized: ${failures.length} host${failures.length === 1 ? "" : "s"} failed to plan`);
    setCode(1);
    return undefined;
  }
  const { planDocument } = await import("./plan-file.ts");
  return planDocument(await planFileInput(opts, inventory, outcomes, run, revealed));
}

/** What a saved plan is made of: the plans of every selected host (none failed), and where they came from. */
async function planFileInput(opts: CommonOptions, inventory: Inventory, outcomes: readonly { value?: HostPlan }[], run: RunModule, revealed: readonly string[]) {
  const version = await import("../engine/version.ts");
  const plans = outcomes.map((o) => o.value!);
  return {
    version: { version: version.MAILFLEET_VERSION, build: version.MAILFLEET_BUILD },
    inventoryFile: opts.inventory,
    inventory,
    limit: opts.limit,
    plans,
    desired: run.desiredHashes(inventory.hosts.filter((h) => plans.some((p) => p.host === h.name)), inventory.hosts),
    secrets: revealed,
  };
}

export function buildProgram(setCode: (n: number) => void): Command {
  const program = new Command("mailfleet")
    .description("Mail plumbing for a fleet from one YAML inventory: nullmailer and Postfix satellites, the Postfix and Dovecot hub, OpenSMTPD and rspamd scanning")
    .option("--no-color", "plain output")
    .showHelpAfterError()
    .exitOverride();

  withCommon(program.command("validate").description("check the inventory and every host's desired state"), false)
    .option("--hosts", "list every host, one per line (a fleet of more than 10 is summarised by group)")
    .action(async (opts: CommonOptions & { hosts?: boolean }) => {
      const { inventory, hosts } = await load(opts);
      const [{ desiredState }, { maskingResolver }] = await Promise.all([import("../engine/desired.ts"), import("../inventory/secrets.ts")]);
      for (const h of hosts) desiredState(h, maskingResolver, inventory.hosts);
      if (opts.json) out(JSON.stringify({ format_version: 1, valid: true, hosts: hosts.map((h) => h.name), warnings: inventory.warnings }));
      else out(validSummary(opts.inventory, hosts, opts.hosts === true));
    });

  withCommon(program.command("render").description("print every file mailfleet would write (secrets masked)"), false).action(async (opts: CommonOptions) => {
    const { inventory, hosts } = await load(opts);
    const [{ desiredState }, { maskingResolver }, { modeString }] = await Promise.all([
      import("../engine/desired.ts"),
      import("../inventory/secrets.ts"),
      import("../resources/facts.ts"),
    ]);
    const files: { host: string; path: string; mode: string; owner?: string; group?: string; content: string }[] = [];
    for (const h of hosts) {
      for (const r of desiredState(h, maskingResolver, inventory.hosts)) {
        if (r.kind === "file" && r.state !== "absent") {
          files.push({ host: h.name, path: r.path, mode: modeString(r.mode), owner: r.owner, group: r.group, content: r.content });
        }
      }
    }
    if (opts.json) {
      out(JSON.stringify({ format_version: 1, files }, null, 2));
      return;
    }
    for (const f of files) out(`${pc.bold(`==> ${f.host}:${f.path}`)} ${pc.dim(`(${f.mode} ${f.owner ?? "-"}:${f.group ?? "-"})`)}\n${f.content}`);
  });

  withCommon(program.command("plan").description("show what apply would change on each host"))
    .option("--detailed-exitcode", "exit 0 no changes, 1 error, 2 changes (as terraform plan)")
    .option("--out <file>", "save the plan for `mailfleet apply FILE` (as terraform plan -out); no secret goes into it")
    .action(async (opts: CommonOptions & { detailedExitcode?: boolean; out?: string }) => {
      const { run, report, plan, inventory } = await fleetModules(opts);
      const { outcomes, secrets } = await run.withTransports(plan);
      const revealed = secrets.revealed();
      const failures = outcomes.filter((o) => !o.ok);
      if (opts.json) out(report.planJson(outcomes, revealed));
      else {
        for (const o of outcomes) out(o.ok && o.value ? report.formatPlan(o.value, revealed) : report.formatFailure(o, revealed));
        out(pc.bold(fleetSummary(outcomes)));
        if (failures.length) err(report.failureSummary(failures, revealed));
      }
      if (failures.length) {
        if (opts.out) err(`mailfleet: no plan was saved to ${opts.out}: ${failures.length} host${failures.length === 1 ? "" : "s"} failed to plan`);
        return setCode(1);
      }
      if (opts.out) {
        const { writePlanFile } = await import("./plan-file.ts");
        const saved = writePlanFile(opts.out, await planFileInput(opts, inventory, outcomes, run, revealed));
        if (!opts.json) out(`Saved the plan to ${opts.out} (${saved.hosts.length} host${saved.hosts.length === 1 ? "" : "s"}); apply exactly this plan with: mailfleet apply ${opts.out}`);
      }
      const changes = outcomes.some((o) => (o.value?.changes.length ?? 0) > 0);
      setCode(changes && opts.detailedExitcode ? 2 : 0);
    });

  withCommon(program.command("queue").description("show the MTA queues of every host (mail waiting, its age, the last errors); or flush, hold or release them"))
    .argument("[action]", "flush: deliver now; hold: keep every queued message back; release: let held mail go")
    .option("--older-than <duration>", "with --detailed-exitcode: what counts as old (90s, 30m, 1h, 2d)", "1h")
    .option("--detailed-exitcode", "exit 0 every queue empty or young, 1 error, 2 a message older than --older-than")
    .option("--prometheus", "the Prometheus text format, for node_exporter's textfile collector")
    .action(async (action: string | undefined, opts: CommonOptions & { olderThan: string; detailedExitcode?: boolean; prometheus?: boolean }) => {
      if (action !== undefined && !["flush", "hold", "release"].includes(action)) {
        throw new CommanderError(1, "mailfleet.badArgument", `queue takes flush, hold or release, or nothing to show the queues; got '${action}'`);
      }
      const [{ hosts }, run, queue, view, { platformOf }] = await Promise.all([
        load(opts),
        import("../engine/run.ts"),
        import("../engine/queue.ts"),
        import("./queue.ts"),
        import("../engine/roles.ts"),
      ]);
      const olderThan = view.parseDuration(opts.olderThan);
      const fleet = { parallel: opts.parallel, timeoutMs: timeoutMs(opts) };
      if (action) {
        const outcomes = await run.withTransports((ts) => queue.fleetQueueAction(hosts, action as "flush" | "hold" | "release", fleet, (h) => ts.for(h, platformOf(h).become)));
        out(opts.json ? JSON.stringify({ action, hosts: outcomes }, null, 2) : view.queueActionReport(action, outcomes));
        return setCode(outcomes.some((o) => !o.ok) ? 1 : 0);
      }
      const outcomes = await run.withTransports((ts) => queue.readFleetQueues(hosts, fleet, (h) => ts.for(h, platformOf(h).become)));
      out(opts.json ? view.queueJson(outcomes, olderThan) : opts.prometheus ? view.queuePrometheus(outcomes) : view.queueTable(outcomes, olderThan));
      const code = view.queueExitCode(outcomes, olderThan);
      setCode(code === 2 && !opts.detailedExitcode ? 0 : code);
    });

  withCommon(program.command("apply").description("make every host match the inventory (or apply a saved plan), then verify"))
    .argument("[plan]", "a plan saved by `mailfleet plan --out`: applied as it is, without asking, to hosts unchanged since")
    .option("-y, --yes", "do not ask for confirmation (needed when not on a terminal)")
    .option("--host <names>", "with a plan file: apply only these hosts' part of it (comma-separated, repeatable)", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .action(async (planFile: string | undefined, opts: CommonOptions & { yes?: boolean; host: string[] }, cmd: Command) => {
      if (planFile === undefined && opts.host.length) throw new CommanderError(1, "mailfleet.badOption", "--host applies part of a saved plan (mailfleet apply FILE --host NAME); without a plan, use --limit");
      if (planFile !== undefined) return applySavedPlan(planFile, opts, cmd.getOptionValueSource("inventory") === "cli", setCode);
      const modules = await fleetModules(opts);
      const { run, report } = modules;
      await run.withTransports(async (transports) => {
        const plan = await modules.plan(transports);
        const revealed = () => plan.secrets.revealed();
        if (!opts.json) {
          for (const o of plan.outcomes) out(o.ok && o.value ? report.formatPlan(o.value, revealed()) : report.formatFailure(o, revealed()));
          out(pc.bold(fleetSummary(plan.outcomes)));
        }
        const confirm = async (n: number): Promise<Confirmation> => {
          if (opts.yes) return "yes";
          if (!process.stdin.isTTY) return "needs --yes";
          return (await ask(`Apply these changes to ${n} host${n === 1 ? "" : "s"}? Only 'yes' is accepted: `)) ? "yes" : "no";
        };
        await applyAndReport(modules, plan, opts, confirm, setCode);
      });
    });

  program
    .command("show")
    .description("print a plan saved by `mailfleet plan --out`")
    .argument("<plan>", "the plan file")
    .option("--json", "the plan file's document as it is")
    .action(async (file: string, opts: { json?: boolean }) => {
      const [{ readPlanFile }, report] = await Promise.all([import("./plan-file.ts"), import("./report.ts")]);
      const doc = readPlanFile(file);
      out(opts.json ? JSON.stringify(doc, null, 2) : report.formatSavedPlan(doc, file));
    });

  withCommon(program.command("synth").description("write the Terraform stack (cdktf) for the inventory: one resource per host"))
    .option("--out <dir>", "output directory (cdktf layout: <dir>/stacks/<stack>/cdk.tf.json)", "cdktf.out")
    .option("--stack <name>", "stack name", "mailfleet")
    .option("--resource <kind>", "terraform_data (built into Terraform >= 1.4) or null_resource (hashicorp/null)", "terraform_data")
    .option("--backend <type>", "where Terraform keeps state: local, pg or s3", "local")
    .option("--backend-config <key=value>", "backend setting, Terraform's name (repeatable); credentials come from the environment", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option("--exec <command>", "how the stack runs mailfleet (default: node <this bin/mailfleet.js, relative to the stack>)")
    .option("--cdktf-app", "run as cdktf.json's app: write where the cdktf CLI says (CDKTF_OUTDIR)")
    .option("--plan <file>", "a plan saved by `mailfleet plan --out`: each host's resource applies its part of it, exactly; only hosts with changes are replaced")
    .option("--refresh", "plan every host now (as --plan with a fresh plan), so drift on a host shows in terraform plan")
    .option("--split-by <rule>", "one stack per group ('group') or per named part (NAME=PATTERNS, repeatable), each with its own state", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .action(async (opts: CommonOptions & SynthCommandOptions & { plan?: string; refresh?: boolean }, cmd: Command) => {
      if (opts.plan !== undefined && opts.refresh) throw new CommanderError(1, "mailfleet.badOption", "--plan and --refresh are two ways to give the stack a plan: choose one");
      if (opts.plan !== undefined) return synthFromPlan(opts.plan, opts, cmd.getOptionValueSource("inventory") === "cli");
      const { inventory, hosts } = await load(opts);
      const { runSynth, synthSummary } = await import("./synth.ts");
      const plan = opts.refresh ? await refreshedPlan(opts, setCode) : undefined;
      if (opts.refresh && !plan) return;
      const result = await runSynth(inventory, hosts, opts, plan);
      out(opts.json ? JSON.stringify(result, null, 2) : synthSummary(result));
    });

  program
    .command("schema")
    .description("print the inventory's JSON Schema (for editors)")
    .action(async () => {
      const { inventoryJsonSchema } = await import("./inventory.ts");
      out(JSON.stringify(inventoryJsonSchema(), null, 2));
    });

  return program;
}

/** What went wrong, as the JSON error document has it (docs/json-output.md). */
interface Failure {
  kind: "usage" | "inventory" | "inventory-file" | "desired-state" | "selection" | "plan-file" | "confirmation" | "cancelled" | "internal";
  message: string;
  problems?: unknown[];
}

/** The one document on stdout when --json was asked for and the command failed. */
function errorJson(f: Failure): string {
  return JSON.stringify({ format_version: 1, error: { kind: f.kind, message: f.message, ...(f.problems ? { problems: f.problems } : {}) } }, null, 2);
}

/** --json before any `--`: every outcome is then one JSON document on stdout, errors too (read before commander parses, which may fail). */
function wantsJson(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).includes("--json");
}

/** An error thrown by a command: what stderr says, and the failure the JSON document names. */
function failureOf(e: unknown): { lines: string[]; failure: Failure } | undefined {
  const error = e as Error & { problems?: unknown[]; hosts?: unknown[] };
  if (e instanceof CommanderError) {
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return undefined;
    // commander printed its own message already, except for ours
    const message = e.message.replace(/^error: /, "");
    return { lines: e.code === "mailfleet.badOption" ? [`mailfleet: ${message}`] : [], failure: { kind: "usage", message } };
  }
  if (error.name === "InventoryError" && Array.isArray(error.problems)) {
    const n = error.problems.length;
    const summary = `${n} problem${n === 1 ? "" : "s"} in the inventory; nothing was changed`;
    return { lines: [error.message, `mailfleet: ${summary}`], failure: { kind: "inventory", message: summary, problems: error.problems } };
  }
  if (error.name === "DesiredStateRefusal" && Array.isArray(error.problems)) {
    return {
      lines: [...error.problems.map((p) => `mailfleet: ${String(p)}`), `mailfleet: ${error.message}`],
      failure: { kind: "desired-state", message: error.message, problems: error.hosts },
    };
  }
  const kinds: Record<string, Failure["kind"]> = {
    SelectionError: "selection",
    PlanFileError: "plan-file",
    InventoryFileError: "inventory-file",
    InventoryPathError: "inventory-file",
  };
  const kind = kinds[error.name];
  if (kind) return { lines: [`mailfleet: ${error.message}`], failure: { kind, message: error.message } };
  const message = `${error.name === "Error" ? "" : `${error.name}: `}${error.message}`;
  return { lines: [`mailfleet: ${message}`, ...(process.env.MAILFLEET_DEBUG ? [String(error.stack)] : [])], failure: { kind: "internal", message } };
}

export async function main(argv: string[]): Promise<number> {
  // `mailfleet render | head`: a reader that went away is not an error of ours
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
  let code = 0;
  const program = buildProgram((n) => {
    code = n;
  });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    const failed = failureOf(e);
    if (!failed) return 0;
    for (const line of failed.lines) err(line);
    if (wantsJson(argv)) out(errorJson(failed.failure));
    return 1;
  }
}
