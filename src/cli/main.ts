// The mailfleet command: validate | render | plan | apply | synth | schema.
import path from "node:path";
import { createInterface } from "node:readline/promises";
import { Command, CommanderError, Option } from "commander";
import pc from "picocolors";
import { desiredState } from "../engine/desired.ts";
import { DEFAULT_PARALLEL, forEachHost, type HostOutcome } from "../engine/fleet.ts";
import { applyHost, planHost, prepareHost, type ApplyResult } from "../engine/host.ts";
import type { HostPlan } from "../engine/plan.ts";
import { fleetProgress } from "../engine/progress.ts";
import { failureSummary, formatApply, formatFailure, formatPlan, planJson, summaryLine } from "../engine/report.ts";
import { InventoryError } from "../inventory/errors.ts";
import { loadInventory, type HostConfig, type Inventory } from "../inventory/load.ts";
import { inventoryJsonSchema } from "../inventory/schema.ts";
import { maskingResolver, revealingResolver, scrub } from "../inventory/secrets.ts";
import { modeString } from "../resources/facts.ts";
import { TransportSet } from "../transports/index.ts";
import { selectHosts, SelectionError } from "./select.ts";
import type { SynthCommandOptions } from "./synth.ts";

interface CommonOptions {
  inventory: string;
  limit: string[];
  json?: boolean;
  parallel: number;
  timeout?: number;
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

function load(opts: CommonOptions): { inventory: Inventory; hosts: HostConfig[] } {
  const inventory = loadInventory(opts.inventory);
  return { inventory, hosts: selectHosts(inventory.hosts, opts.limit) };
}

function withCommon(cmd: Command, fleet = true): Command {
  cmd
    .addOption(
      new Option("-i, --inventory <file>", "inventory file").default(process.env.MAILFLEET_INVENTORY ?? "inventory.yaml"),
    )
    .option("--limit <patterns>", "only these hosts or groups (globs, comma-separated, repeatable)", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option("--json", "machine-readable output");
  if (fleet) {
    cmd
      .option("--parallel <n>", "hosts at once", positiveInt("--parallel"), DEFAULT_PARALLEL)
      .option("--timeout <seconds>", "per host and step", positiveInt("--timeout"));
  }
  return cmd;
}

/** Runs `fn` with the run's transports and closes their connections afterwards, also on Ctrl-C. */
async function withTransports<T>(fn: (transports: TransportSet) => Promise<T>): Promise<T> {
  const transports = new TransportSet();
  const interrupted = () => {
    void transports.close().finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    return await fn(transports);
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    await transports.close();
  }
}

async function planAll(hosts: HostConfig[], opts: CommonOptions, secretsCwd: string, transports: TransportSet) {
  const secrets = revealingResolver(secretsCwd);
  const timeoutMs = opts.timeout ? opts.timeout * 1000 : undefined;
  const targets = new Map<string, ReturnType<typeof prepareHost>>();
  const progress = fleetProgress("plan", hosts.length, { stream: process.stderr, quiet: opts.json });
  const outcomes = await forEachHost(
    hosts,
    opts.parallel,
    async (h) => {
      const t = prepareHost(h, transports.for(h), secrets);
      targets.set(h.name, t);
      return planHost(t, timeoutMs);
    },
    (o) => progress.done(o, o.value ? summaryLine(o.value) : undefined),
    (h) => progress.started(h),
  );
  progress.end();
  return { outcomes, targets, secrets, timeoutMs };
}

function printPlans(outcomes: HostOutcome<HostPlan>[], secrets: readonly string[]): void {
  for (const o of outcomes) out(o.ok && o.value ? formatPlan(o.value, secrets) : formatFailure(o, secrets));
}

function fleetSummary(outcomes: HostOutcome<HostPlan>[]): string {
  const withChanges = outcomes.filter((o) => o.value && o.value.changes.length > 0);
  const failed = outcomes.filter((o) => !o.ok);
  const parts = [`${outcomes.length} host${outcomes.length === 1 ? "" : "s"}`];
  parts.push(withChanges.length ? `${withChanges.length} with changes` : "no changes");
  if (failed.length) parts.push(pc.red(`${failed.length} failed: ${failed.map((f) => f.host).join(", ")}`));
  return `Plan: ${parts.join(", ")}`;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(question);
    return answer.trim() === "yes";
  } finally {
    rl.close();
  }
}

export function buildProgram(setCode: (n: number) => void): Command {
  const program = new Command("mailfleet")
    .description("Mail plumbing for a fleet: nullmailer and Postfix from one YAML inventory")
    .option("--no-color", "plain output")
    .showHelpAfterError()
    .exitOverride();

  withCommon(program.command("validate").description("check the inventory and every host's desired state"), false).action(
    (opts: CommonOptions) => {
      const { hosts } = load(opts);
      for (const h of hosts) desiredState(h, maskingResolver);
      if (opts.json) out(JSON.stringify({ valid: true, hosts: hosts.map((h) => h.name) }));
      else out(`inventory ${opts.inventory} is valid: ${hosts.length} host${hosts.length === 1 ? "" : "s"} (${hosts.map((h) => h.name).join(", ")})`);
    },
  );

  withCommon(program.command("render").description("print every file mailfleet would write (secrets masked)"), false).action(
    (opts: CommonOptions) => {
      const { hosts } = load(opts);
      const files: { host: string; path: string; mode: string; owner?: string; group?: string; content: string }[] = [];
      for (const h of hosts) {
        for (const r of desiredState(h, maskingResolver)) {
          if (r.kind === "file" && r.state !== "absent") {
            files.push({ host: h.name, path: r.path, mode: modeString(r.mode), owner: r.owner, group: r.group, content: r.content });
          }
        }
      }
      if (opts.json) {
        out(JSON.stringify({ files }, null, 2));
        return;
      }
      for (const f of files) out(`${pc.bold(`==> ${f.host}:${f.path}`)} ${pc.dim(`(${f.mode} ${f.owner ?? "-"}:${f.group ?? "-"})`)}\n${f.content}`);
    },
  );

  withCommon(program.command("plan").description("show what apply would change on each host"))
    .option("--detailed-exitcode", "exit 0 no changes, 1 error, 2 changes (as terraform plan)")
    .action(async (opts: CommonOptions & { detailedExitcode?: boolean }) => {
      const { inventory, hosts } = load(opts);
      const { outcomes, secrets } = await withTransports((transports) => planAll(hosts, opts, path.dirname(inventory.file), transports));
      const revealed = secrets.revealed();
      const failures = outcomes.filter((o) => !o.ok);
      if (opts.json) out(planJson(outcomes, revealed));
      else {
        printPlans(outcomes, revealed);
        out(pc.bold(fleetSummary(outcomes)));
        if (failures.length) err(failureSummary(failures, revealed));
      }
      if (failures.length) return setCode(1);
      const changes = outcomes.some((o) => (o.value?.changes.length ?? 0) > 0);
      setCode(changes && opts.detailedExitcode ? 2 : 0);
    });

  withCommon(program.command("apply").description("make every host match the inventory, then verify"))
    .option("-y, --yes", "do not ask for confirmation (needed when not on a terminal)")
    .action((opts: CommonOptions & { yes?: boolean }) => withTransports((transports) => applyCommand(opts, transports)));

  withCommon(program.command("synth").description("write the Terraform stack (cdktf) for the inventory: one resource per host"), false)
    .option("--out <dir>", "output directory (cdktf layout: <dir>/stacks/<stack>/cdk.tf.json)", "cdktf.out")
    .option("--stack <name>", "stack name", "mailfleet")
    .option("--resource <kind>", "terraform_data (built into Terraform >= 1.4) or null_resource (hashicorp/null)", "terraform_data")
    .option("--backend <type>", "where Terraform keeps state: local, pg or s3", "local")
    .option("--backend-config <key=value>", "backend setting, Terraform's name (repeatable); credentials come from the environment", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option("--exec <command>", "how the stack runs mailfleet (default: node <this bin/mailfleet.js, relative to the stack>)")
    .option("--cdktf-app", "run as cdktf.json's app: write where the cdktf CLI says (CDKTF_OUTDIR)")
    .action(async (opts: CommonOptions & SynthCommandOptions) => {
      const { inventory, hosts } = load(opts);
      const { runSynth, synthSummary } = await import("./synth.ts");
      const result = await runSynth(inventory, hosts, opts);
      out(opts.json ? JSON.stringify(result, null, 2) : synthSummary(result));
    });

  program
    .command("schema")
    .description("print the inventory's JSON Schema (for editors)")
    .action(() => {
      out(JSON.stringify(inventoryJsonSchema(), null, 2));
    });

  return program;

  // plan, confirm, apply and verify; the plan's connections serve the apply.
  async function applyCommand(opts: CommonOptions & { yes?: boolean }, transports: TransportSet): Promise<void> {
    const { inventory, hosts } = load(opts);
    const { outcomes, targets, secrets, timeoutMs } = await planAll(hosts, opts, path.dirname(inventory.file), transports);
    const revealed = secrets.revealed;
    if (!opts.json) {
      printPlans(outcomes, revealed());
      out(pc.bold(fleetSummary(outcomes)));
    }
    const todo = outcomes.filter((o) => o.ok && o.value && o.value.changes.length > 0);
    if (todo.length > 0 && !opts.yes) {
      if (!process.stdin.isTTY) {
        err("mailfleet: apply needs confirmation; not on a terminal, so pass --yes");
        return setCode(1);
      }
      if (!(await confirm(`Apply these changes to ${todo.length} host${todo.length === 1 ? "" : "s"}? Only 'yes' is accepted: `))) {
        err("apply cancelled");
        return setCode(1);
      }
    }
    const progress = fleetProgress("apply", todo.length, { stream: process.stderr, quiet: true });
    const applied = await forEachHost(
      todo.map((o) => ({ name: o.host, plan: o.value! })),
      opts.parallel,
      (h) => applyHost(targets.get(h.name)!, h.plan, timeoutMs),
      (o) => {
        progress.done(o);
        if (!opts.json) out(o.ok && o.value ? formatApply(o.value, revealed()) : formatFailure(o, revealed()));
      },
      (h) => progress.started(h),
    );
    progress.end();
    const planFailures = outcomes.filter((o) => !o.ok);
    const notConverged = applied.filter((a) => a.ok && (a.value as ApplyResult).remaining.length > 0);
    const failures = [...planFailures, ...applied.filter((a) => !a.ok)];
    if (opts.json) {
      out(
        scrub(
          JSON.stringify(
            {
              format_version: 1,
              hosts: outcomes.map((o) => {
                const a = applied.find((x) => x.host === o.host);
                return {
                  host: o.host,
                  error: o.error ?? a?.error,
                  changes: o.value?.changes ?? [],
                  applied: a?.value?.applied ?? [],
                  remaining: a?.value?.remaining ?? [],
                };
              }),
            },
            null,
            2,
          ),
          revealed(),
        ),
      );
    } else {
      const ok = applied.filter((a) => a.ok).length;
      out(pc.bold(`Apply: ${ok} host${ok === 1 ? "" : "s"} changed, ${outcomes.length - todo.length - planFailures.length} unchanged${failures.length ? pc.red(`, ${failures.length} failed`) : ""}`));
      if (failures.length) err(failureSummary(failures, revealed()));
    }
    setCode(failures.length > 0 || notConverged.length > 0 ? 1 : 0);
  }
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((n) => {
    code = n;
  });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return 0;
      if (e.code === "mailfleet.badOption") err(`mailfleet: ${e.message}`);
      return 1;
    }
    if (e instanceof InventoryError) {
      err(e.message);
      err(`mailfleet: ${e.problems.length} problem${e.problems.length === 1 ? "" : "s"} in the inventory; nothing was changed`);
      return 1;
    }
    if (e instanceof SelectionError) {
      err(`mailfleet: ${e.message}`);
      return 1;
    }
    const error = e as Error;
    err(`mailfleet: ${error.name === "Error" ? "" : `${error.name}: `}${error.message}`);
    if (process.env.MAILFLEET_DEBUG) err(String(error.stack));
    return 1;
  }
}

