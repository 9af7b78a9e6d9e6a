// The mailfleet command: validate | render | plan | apply | synth | schema.
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

async function load(opts: CommonOptions): Promise<{ inventory: Inventory; hosts: HostConfig[] }> {
  const [{ loadInventory }, { selectHosts }] = await Promise.all([import("../engine/inventory.ts"), import("./select.ts")]);
  const inventory = loadInventory(opts.inventory, { untrusted: opts.untrusted });
  return { inventory, hosts: selectHosts(inventory.hosts, opts.limit) };
}

function withCommon(cmd: Command, fleet = true): Command {
  cmd
    .addOption(
      new Option("-i, --inventory <file>", "inventory file").default(process.env.MAILFLEET_INVENTORY ?? "inventory.yaml"),
    )
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
    const result = await run.planFleet(
      hosts,
      {
        parallel: opts.parallel,
        timeoutMs: opts.timeout ? opts.timeout * 1000 : undefined,
        secretsCwd: path.dirname(inventory.file),
        secretTimeoutMs: opts.secretTimeout * 1000,
        fleet: inventory.hosts,
        onStart: (h) => progress.started(h),
        onPlanned: (o) => progress.done(o, o.value ? report.summaryLine(o.value) : undefined),
      },
      transports,
    );
    progress.end();
    return result;
  };
  return { hosts, run, report, fleetProgress, plan };
}

export function buildProgram(setCode: (n: number) => void): Command {
  const program = new Command("mailfleet")
    .description("Mail plumbing for a fleet: nullmailer and Postfix from one YAML inventory")
    .option("--no-color", "plain output")
    .showHelpAfterError()
    .exitOverride();

  withCommon(program.command("validate").description("check the inventory and every host's desired state"), false).action(async (opts: CommonOptions) => {
    const { inventory, hosts } = await load(opts);
    const [{ desiredState }, { maskingResolver }] = await Promise.all([import("../engine/desired.ts"), import("../inventory/secrets.ts")]);
    for (const h of hosts) desiredState(h, maskingResolver, inventory.hosts);
    if (opts.json) out(JSON.stringify({ valid: true, hosts: hosts.map((h) => h.name) }));
    else out(`inventory ${opts.inventory} is valid: ${hosts.length} host${hosts.length === 1 ? "" : "s"} (${hosts.map((h) => h.name).join(", ")})`);
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
      out(JSON.stringify({ files }, null, 2));
      return;
    }
    for (const f of files) out(`${pc.bold(`==> ${f.host}:${f.path}`)} ${pc.dim(`(${f.mode} ${f.owner ?? "-"}:${f.group ?? "-"})`)}\n${f.content}`);
  });

  withCommon(program.command("plan").description("show what apply would change on each host"))
    .option("--detailed-exitcode", "exit 0 no changes, 1 error, 2 changes (as terraform plan)")
    .action(async (opts: CommonOptions & { detailedExitcode?: boolean }) => {
      const { run, report, plan } = await fleetModules(opts);
      const { outcomes, secrets } = await run.withTransports(plan);
      const revealed = secrets.revealed();
      const failures = outcomes.filter((o) => !o.ok);
      if (opts.json) out(report.planJson(outcomes, revealed));
      else {
        for (const o of outcomes) out(o.ok && o.value ? report.formatPlan(o.value, revealed) : report.formatFailure(o, revealed));
        out(pc.bold(fleetSummary(outcomes)));
        if (failures.length) err(report.failureSummary(failures, revealed));
      }
      if (failures.length) return setCode(1);
      const changes = outcomes.some((o) => (o.value?.changes.length ?? 0) > 0);
      setCode(changes && opts.detailedExitcode ? 2 : 0);
    });

  withCommon(program.command("apply").description("make every host match the inventory, then verify"))
    .option("-y, --yes", "do not ask for confirmation (needed when not on a terminal)")
    .action(async (opts: CommonOptions & { yes?: boolean }) => {
      const modules = await fleetModules(opts);
      const { run, report, fleetProgress } = modules;
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
        const todo = plan.outcomes.filter((o) => o.ok && o.value && o.value.changes.length > 0).length;
        const progress = fleetProgress("apply", todo, { stream: process.stderr, quiet: true });
        const result = await run.applyFleet(plan, {
          parallel: opts.parallel,
          confirm,
          onStart: (h) => progress.started(h),
          onApplied: (o) => {
            progress.done(o);
            if (!opts.json) out(o.ok && o.value ? report.formatApply(o.value, revealed()) : report.formatFailure(o, revealed()));
          },
        });
        progress.end();
        if (result === "needs --yes") {
          err("mailfleet: apply needs confirmation; not on a terminal, so pass --yes");
          return setCode(1);
        }
        if (result === "no") {
          err("apply cancelled");
          return setCode(1);
        }
        if (opts.json) out(report.applyJson(plan.outcomes, result.applied, revealed()));
        else {
          const ok = result.applied.filter((a) => a.ok).length;
          out(pc.bold(`Apply: ${ok} host${ok === 1 ? "" : "s"} changed, ${result.unchanged} unchanged${result.failures.length ? pc.red(`, ${result.failures.length} failed`) : ""}`));
          if (result.failures.length) err(report.failureSummary(result.failures, revealed()));
        }
        setCode(result.failures.length > 0 || result.notConverged.length > 0 ? 1 : 0);
      });
    });

  withCommon(program.command("synth").description("write the Terraform stack (cdktf) for the inventory: one resource per host"), false)
    .option("--out <dir>", "output directory (cdktf layout: <dir>/stacks/<stack>/cdk.tf.json)", "cdktf.out")
    .option("--stack <name>", "stack name", "mailfleet")
    .option("--resource <kind>", "terraform_data (built into Terraform >= 1.4) or null_resource (hashicorp/null)", "terraform_data")
    .option("--backend <type>", "where Terraform keeps state: local, pg or s3", "local")
    .option("--backend-config <key=value>", "backend setting, Terraform's name (repeatable); credentials come from the environment", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option("--exec <command>", "how the stack runs mailfleet (default: node <this bin/mailfleet.js, relative to the stack>)")
    .option("--cdktf-app", "run as cdktf.json's app: write where the cdktf CLI says (CDKTF_OUTDIR)")
    .action(async (opts: CommonOptions & SynthCommandOptions) => {
      const { inventory, hosts } = await load(opts);
      const { runSynth, synthSummary } = await import("./synth.ts");
      const result = await runSynth(inventory, hosts, opts);
      out(opts.json ? JSON.stringify(result, null, 2) : synthSummary(result));
    });

  program
    .command("schema")
    .description("print the inventory's JSON Schema (for editors)")
    .action(async () => {
      const { inventoryJsonSchema } = await import("../engine/inventory.ts");
      out(JSON.stringify(inventoryJsonSchema(), null, 2));
    });

  return program;
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
    const error = e as Error & { problems?: unknown[] };
    if (error.name === "InventoryError" && Array.isArray(error.problems)) {
      err(error.message);
      err(`mailfleet: ${error.problems.length} problem${error.problems.length === 1 ? "" : "s"} in the inventory; nothing was changed`);
      return 1;
    }
    if (error.name === "SelectionError") {
      err(`mailfleet: ${error.message}`);
      return 1;
    }
    err(`mailfleet: ${error.name === "Error" ? "" : `${error.name}: `}${error.message}`);
    if (process.env.MAILFLEET_DEBUG) err(String(error.stack));
    return 1;
  }
}
