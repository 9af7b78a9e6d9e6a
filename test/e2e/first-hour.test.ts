// What a new user meets first: the demo shows its plan once and ends with a
// short "no changes"; a missing inventory says what is missing and where it
// was looked for; --help names $MAILFLEET_INVENTORY.
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { stripVTControlCharacters } from "node:util";
import { execa } from "execa";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { mailfleet, REPO, withoutProgress } from "../support/cli.ts";

function fleetCopy(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-first-"));
  cpSync(path.join(REPO, "examples/zones.yaml"), path.join(dir, "zones.yaml"));
  return dir;
}

describe("npm run demo", () => {
  it("shows the plan once, applies exactly it, and the re-plan is a line per host ending in no changes", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mf-demo-"));
    const examples = path.join(REPO, "examples");
    const sandbox = path.join(examples, "sandbox");
    cpSync(examples, path.join(dir, "examples"), { recursive: true, filter: (src) => src !== sandbox && !src.startsWith(`${sandbox}${path.sep}`) });
    const r = await execa(process.execPath, [path.join(REPO, "scripts/demo.mjs")], { cwd: dir, all: true, reject: false, env: { NO_COLOR: "1" } });
    expect(r.exitCode, r.all).toBe(0);
    const lines = stripVTControlCharacters(String(r.all)).split("\n");
    // the remotes file of web1 is created once, shown once
    expect(lines.filter((l) => l.includes("create /opt/local/etc/nullmailer/remotes"))).toHaveLength(2);
    expect(lines.filter((l) => /^\$ mailfleet /.test(l))).toEqual([
      "$ mailfleet plan -i examples/demo-fleet.yaml --detailed-exitcode --out examples/sandbox/demo.plan   # what would change",
      "$ mailfleet apply examples/sandbox/demo.plan   # make it so: exactly the plan above",
      "$ mailfleet plan -i examples/demo-fleet.yaml --detailed-exitcode   # nothing left to do",
    ]);
    const last = lines.slice(lines.findIndex((l) => l.includes("# nothing left to do")) + 1).filter((l) => l && !/^plan \d+\/\d+ /.test(l));
    expect(last).toEqual([
      ...["web1", "db1", "pi", "hub", "mx", "store", "mx2", "store2"].map((h) => expect.stringMatching(new RegExp(`^${h} \\(\\w+, local:examples/sandbox/${h}, \\d+ steps skipped under a root prefix\\): no changes$`))),
      "Plan: 8 hosts, no changes",
      "Demo done: the second plan shows no changes.",
    ]);
    // 8 hosts, most of it the first plan's new files (two hubs' main.cf, master.cf and maps)
    expect(lines.length).toBeLessThan(1800);
  });
});

describe("a missing inventory is not a problem in an inventory", () => {
  const empty = mkdtempSync(path.join(os.tmpdir(), "mf-none-"));

  it("no -i: the absolute path looked at, and how to name another", async () => {
    const r = await mailfleet(["validate"], { cwd: empty });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `mailfleet: no inventory file ${path.join(empty, "inventory.yaml")}: it does not exist (-i was not given, so mailfleet looked for inventory.yaml in the working directory; name the inventory with -i FILE or $MAILFLEET_INVENTORY)`,
    );
    expect(r.stderr).not.toMatch(/problem|:1:1:/);
  });

  it("-i, $MAILFLEET_INVENTORY and a directory: each says which", async () => {
    expect((await mailfleet(["plan", "-i", "nope.yaml"], { cwd: empty })).stderr).toBe(`mailfleet: no inventory file ${path.join(empty, "nope.yaml")}: it does not exist`);
    const env = await mailfleet(["validate"], { cwd: empty, env: { MAILFLEET_INVENTORY: "/nonexistent/fleet.yaml" } });
    expect(env.stderr).toBe("mailfleet: no inventory file /nonexistent/fleet.yaml: it does not exist (the path came from $MAILFLEET_INVENTORY)");
    expect((await mailfleet(["validate", "-i", empty])).stderr).toBe(`mailfleet: the inventory ${empty} is a directory; name the YAML file in it`);
  });

  it("$MAILFLEET_INVENTORY is used, and --help says so", async () => {
    const dir = fleetCopy();
    const r = await mailfleet(["validate"], { cwd: REPO, env: { MAILFLEET_INVENTORY: path.join(dir, "zones.yaml") } });
    expect(r.stdout).toMatch(/is valid: 2 hosts/);
    const help = await mailfleet(["plan", "--help"]);
    expect(help.stdout.replace(/\s+/g, " ")).toContain('-i, --inventory <file> inventory file (default: "inventory.yaml", env: MAILFLEET_INVENTORY)');
  });

  it("apply PLAN from another directory: the inventory the plan names, relative to where plan ran, and -i", async () => {
    const dir = fleetCopy();
    const plan = await mailfleet(["plan", "-i", "zones.yaml", "--out", "zones.plan"], { cwd: dir });
    expect(plan.code, plan.stderr).toBe(0);
    const r = await mailfleet(["apply", path.join(dir, "zones.plan")], { cwd: empty });
    expect(r.code).toBe(1);
    expect(withoutProgress(r.stderr)).toBe(
      `mailfleet: no inventory file ${path.join(empty, "zones.yaml")}: it does not exist (the plan ${path.join(dir, "zones.plan")} was made from zones.yaml, a path relative to the directory \`mailfleet plan\` ran in; run apply there or pass -i with the inventory's path)`,
    );
  });
});

describe("--json: one JSON document on stdout whatever the outcome", () => {
  const json = (stdout: string) => JSON.parse(stdout) as { format_version: number; error?: { kind: string; message: string; problems?: unknown[] } };

  it("a bad inventory, a missing one, a bad option: an error document each, exit 1", async () => {
    const dir = fleetCopy();
    const bad = path.join(dir, "bad.yaml");
    writeFileSync(bad, "defaults:\n  domain: example.org\n  relay: { host: relay.example.org, port: abc }\n");
    const r = await mailfleet(["validate", "-i", bad, "--json"]);
    expect(r.code).toBe(1);
    expect(json(r.stdout)).toEqual({
      format_version: 1,
      error: {
        kind: "inventory",
        message: expect.stringMatching(/^\d+ problems? in the inventory; nothing was changed$/),
        problems: expect.arrayContaining([{ file: expect.stringMatching(/bad\.yaml$/), line: 3, column: 43, field: "defaults.relay.port", message: '"abc" is not allowed; expected a whole number from 1 to 65535' }]),
      },
    });
    expect(r.stderr).toMatch(/nothing was changed/);
    const missing = await mailfleet(["plan", "-i", path.join(dir, "nope.yaml"), "--json"]);
    expect(json(missing.stdout).error).toEqual({ kind: "inventory-file", message: `no inventory file ${path.join(dir, "nope.yaml")}: it does not exist` });
    const usage = await mailfleet(["apply", "-i", path.join(dir, "zones.yaml"), "--parallel", "0", "--json"]);
    expect([usage.code, json(usage.stdout).error?.kind]).toEqual([1, "usage"]);
    const unknown = await mailfleet(["plan", "--bogus", "--json"]);
    expect(json(unknown.stdout).error).toEqual({ kind: "usage", message: "unknown option '--bogus'" });
  });

  it("apply when a secret fails: the hosts and why, nothing applied; apply without --yes off a terminal: confirmation", async () => {
    const dir = fleetCopy();
    const inv = path.join(dir, "zones.yaml");
    const text = readFileSync(inv, "utf8").replace("    port: 25\n", '    port: 25\n    auth: { user: u, password: { command: "exit 3" } }\n');
    writeFileSync(inv, text);
    const r = await mailfleet(["apply", "-i", inv, "--yes", "--json"]);
    expect(r.code).toBe(1);
    expect(json(r.stdout).error).toEqual({
      kind: "desired-state",
      message: "the desired state of 2 hosts cannot be built; nothing was changed on any host",
      problems: [
        { host: "web1", message: expect.stringMatching(/secret command exited 3/) },
        { host: "db1", message: expect.stringMatching(/secret command exited 3/) },
      ],
    });
    expect(existsSync(path.join(dir, "sandbox"))).toBe(false);
    writeFileSync(inv, text.replace("exit 3", "echo relay-pw"));
    const unconfirmed = await mailfleet(["apply", "-i", inv, "--json"]);
    expect([unconfirmed.code, json(unconfirmed.stdout).error?.kind]).toEqual([1, "confirmation"]);
    const ok = await mailfleet(["validate", "-i", inv, "--json"]);
    expect(json(ok.stdout)).toEqual({ format_version: 1, valid: true, hosts: ["web1", "db1"], warnings: [] });
  });
});

describe("a setting no role reads", () => {
  it("in defaults: a warning on stderr, the run goes on; on the host: refused, nothing written", async () => {
    const dir = fleetCopy();
    const inv = path.join(dir, "zones.yaml");
    const text = readFileSync(inv, "utf8").replace("defaults:\n", "defaults:\n  opensmtpd: { maxMessageSize: 10M }\n");
    writeFileSync(inv, text);
    const r = await mailfleet(["plan", "-i", inv]);
    expect(r.code, r.stderr).toBe(0);
    expect(withoutProgress(r.stderr)).toMatch(
      /^\S*zones\.yaml:5:3: defaults\.opensmtpd: warning: no host of the inventory has a role that reads it \(opensmtpd is read by opensmtpd; they run nullmailer\), so it has no effect$/m,
    );
    writeFileSync(inv, text.replace("  opensmtpd: { maxMessageSize: 10M }\n", "").replace("      web1: {", "      web1: { postfix: { replyTo: a@example.org },"));
    const refused = await mailfleet(["apply", "-i", inv, "--yes"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/zones\.yaml:\d+:\d+: groups\.zones\.hosts\.web1\.postfix: no role of host web1 reads it \(postfix is read by postfix-satellite; web1 runs nullmailer\)/);
    expect(existsSync(path.join(dir, "sandbox"))).toBe(false);
  });
});
