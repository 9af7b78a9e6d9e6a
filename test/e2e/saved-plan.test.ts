// Saved plans, as Terraform's `plan -out`: `mailfleet plan --out FILE` writes
// what plan found (no secret in it), `mailfleet apply FILE` applies exactly
// that, without asking, and only to hosts that still show the facts it was
// made from: a host changed since (a file edited by hand, in place, even the
// one holding the relay password; a mode; a file gone; another apply) is
// refused as a stale plan with nothing written on it, on the host itself,
// by the apply script, before its first write. A plan from another
// inventory or another mailfleet, an edited or damaged one, is refused whole.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyScript, STALE } from "../../src/engine/scripts.ts";
import { sealPlan, type SavedPlan } from "../../src/engine/saved-plan.ts";
import { mailfleet, REPO } from "../support/cli.ts";
import { exampleFleet, plannedExampleHost, type ExampleFleet } from "../support/fleet.ts";
import { checkShells, SHELLS } from "../support/shells.ts";
import { snapshotTree } from "../support/tree.ts";

const SECRET = "saved-plan-relay-secret-41d9";
const CONF = "opt/local/etc/nullmailer";
const VERSION = (JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { version: string }).version;

/** The example fleet applied, then a setting added: a plan with one change per host to review. */
async function reviewedChange(): Promise<ExampleFleet & { plan: string }> {
  const fleet = exampleFleet({ password: { file: "secrets/relay-password" }, secret: SECRET });
  const first = await mailfleet(["apply", "-i", "zones.yaml", "--yes"], { cwd: fleet.dir });
  expect(first.code, first.stderr).toBe(0);
  fleet.edit((doc) => doc.setIn(["groups", "zones", "nullmailer", "pausetime"], 30));
  const plan = await mailfleet(["plan", "-i", "zones.yaml", "--detailed-exitcode", "--out", "plan.json"], { cwd: fleet.dir });
  expect(plan.code, plan.stderr).toBe(2);
  expect(plan.stdout).toContain("Saved the plan to plan.json (2 hosts); apply exactly this plan with: mailfleet apply plan.json");
  return { ...fleet, plan: path.join(fleet.dir, "plan.json") };
}

const apply = (fleet: ExampleFleet, ...args: string[]) => mailfleet(["apply", ...args], { cwd: fleet.dir });
const read = (file: string) => JSON.parse(readFileSync(file, "utf8")) as SavedPlan;
const write = (file: string, doc: unknown) => writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
/** The sandbox's tree, without the lock directory (var/run: an apply's lock entry lives there while it runs, and is gone after). */
const tree = (root: string) => snapshotTree(root).filter((e) => !e.path.startsWith("var/run/"));

describe("plan --out and apply FILE", () => {
  it("writes a versioned plan without secrets; apply FILE applies exactly it without asking; plan is then clean", async () => {
    const fleet = await reviewedChange();
    const text = readFileSync(fleet.plan, "utf8");
    const doc = read(fleet.plan);
    expect(doc).toMatchObject({
      kind: "mailfleet-plan",
      format_version: 1,
      mailfleet: { version: VERSION, build: expect.stringMatching(/^[0-9a-f]{16}$/) },
      inventory: { file: "zones.yaml", sha256: createHash("sha256").update(readFileSync(fleet.inventory)).digest("hex") },
      selection: { limit: [], hosts: ["web1", "db1"] },
    });
    for (const h of doc.hosts) {
      expect(h.desired_sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(h.facts_sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(h.changes.map((c) => c.summary)).toEqual(["create /opt/local/etc/nullmailer/pausetime (0644)"]);
    }
    for (const form of [SECRET, Buffer.from(SECRET).toString("hex"), Buffer.from(SECRET).toString("base64")]) expect(text).not.toContain(form);

    const show = await mailfleet(["show", "plan.json"], { cwd: fleet.dir, env: { NO_COLOR: "1" } });
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/^plan\.json: a plan made .* from zones\.yaml$/m);
    expect(show.stdout).toContain("+ create /opt/local/etc/nullmailer/pausetime (0644)");
    expect(show.stdout).toContain("      +30");

    // not on a terminal and without --yes: a saved plan is applied as it is (terraform apply FILE)
    const r = await apply(fleet, "plan.json");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Applying the plan saved in plan\.json \(made .* from zones\.yaml\): 2 hosts, 2 with changes$/m);
    expect(r.stdout).toMatch(/web1: applied 1 change, verified/);
    expect(r.stdout).toMatch(/db1: applied 1 change, verified/);
    expect(readFileSync(path.join(fleet.dir, "sandbox/web1", CONF, "pausetime"), "utf8")).toBe("30\n");
    expect((await mailfleet(["plan", "-i", "zones.yaml", "--detailed-exitcode"], { cwd: fleet.dir })).code).toBe(0);

    // the hosts changed since (this very plan was applied): applying it again is refused
    const again = await apply(fleet, "plan.json");
    expect(again.code).toBe(1);
    expect(again.stdout).toContain("web1: error: stale plan: web1 changed since the plan");
    expect(again.stdout).toContain("db1: error: stale plan: db1 changed since the plan");
  });

  const changes: { name: string; change(web1: string, fleet: ExampleFleet): Promise<void> | void }[] = [
    {
      name: "a file edited by hand, same size",
      change: (web1) => writeFileSync(path.join(web1, CONF, "adminaddr"), "toor@example.org\n"),
    },
    {
      name: "the file holding the relay password edited in place, same size, same inode",
      change: (web1) => {
        const p = path.join(web1, CONF, "remotes");
        const ino = statSync(p).ino;
        writeFileSync(p, readFileSync(p, "utf8").replace("--port=25", "--port=26"));
        expect(statSync(p).ino).toBe(ino);
      },
    },
    { name: "a file's mode", change: (web1) => chmodSync(path.join(web1, CONF, "me"), 0o600) },
    { name: "a file removed", change: (web1) => rmSync(path.join(web1, CONF, "me")) },
    { name: "the trigger FIFO removed", change: (web1) => rmSync(path.join(web1, "var/spool/nullmailer/trigger")) },
    { name: "a spool directory left aside by an interrupted move", change: (web1) => mkdirSync(path.join(web1, "var/spool/nullmailer/tmp.mailfleet-old")) },
    {
      name: "another apply since the plan",
      change: async (_web1, fleet) => {
        fleet.edit((doc) => doc.setIn(["groups", "zones", "hosts", "web1", "adminaddr"], "postmaster@example.org"));
        expect((await apply(fleet, "-i", "zones.yaml", "--yes", "--limit", "web1")).code).toBe(0);
        fleet.edit((doc) => doc.deleteIn(["groups", "zones", "hosts", "web1", "adminaddr"]));
      },
    },
  ];

  it.each(changes)("a host changed since the plan ($name) is refused as stale, nothing written on it; the other host is applied", async ({ change }) => {
    const fleet = await reviewedChange();
    const web1 = path.join(fleet.dir, "sandbox/web1");
    await change(web1, fleet);
    const before = tree(web1);
    const r = await apply(fleet, "plan.json");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("web1: error: stale plan: web1 changed since the plan; nothing was written on it");
    expect(r.stdout).toMatch(/db1: applied 1 change, verified/);
    expect(r.stderr).toMatch(/1 host failed:\n {2}web1: error: stale plan/);
    expect(tree(web1)).toEqual(before);
    expect(readdirSync(path.join(web1, "var/run"))).toEqual([]);
  });

  it("refuses, before anything runs, a plan from another inventory or another mailfleet, an edited, damaged or foreign file, and --limit", async () => {
    const fleet = await reviewedChange();
    const sandboxes = () => tree(path.join(fleet.dir, "sandbox"));
    const before = sandboxes();
    const doc = read(fleet.plan);
    const refused = async (args: string[], message: RegExp) => {
      const r = await apply(fleet, ...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(sandboxes()).toEqual(before);
    };

    const original = readFileSync(fleet.inventory, "utf8");
    writeFileSync(fleet.inventory, `${original}# a comment is a change too\n`);
    await refused(["plan.json"], /^mailfleet: refusing plan\.json: it was made from another inventory: zones\.yaml had sha256 [0-9a-f]{12}…, zones\.yaml has [0-9a-f]{12}…; nothing was changed: plan again$/m);
    writeFileSync(fleet.inventory, original);

    const { checksum: _, ...rest } = doc;
    write(path.join(fleet.dir, "other-version.json"), sealPlan({ ...rest, mailfleet: { version: "9.9.9", build: "0123456789abcdef" } }));
    await refused(["other-version.json"], new RegExp(`refusing other-version\\.json: it was made by mailfleet 9\\.9\\.9 \\(build 0123456789abcdef\\); this is mailfleet ${VERSION.replace(/\./g, "\\.")} \\(build [0-9a-f]{16}\\)`));

    const edited = structuredClone(doc);
    edited.hosts[0]!.changes[0]!.summary = "create something else";
    write(path.join(fleet.dir, "edited.json"), edited);
    await refused(["edited.json"], /edited\.json is damaged or was edited \(its checksum does not match its content\): plan again/);

    writeFileSync(path.join(fleet.dir, "half.json"), readFileSync(fleet.plan, "utf8").slice(0, 300));
    await refused(["half.json"], /half\.json is not a mailfleet plan \(not JSON\)/);
    write(path.join(fleet.dir, "foreign.json"), { format_version: 1, planned_values: {} });
    await refused(["foreign.json"], /foreign\.json is not a mailfleet plan \(no "kind": "mailfleet-plan"\)/);
    write(path.join(fleet.dir, "future.json"), { ...doc, format_version: 2 });
    await refused(["future.json"], /future\.json is a plan of format_version 2; this mailfleet reads format_version 1: plan again/);
    await refused(["plan.json", "--limit", "web1"], /--limit does not narrow a saved plan: plan\.json applies the hosts it was made for \(web1, db1\)/);
    await refused(["missing.json"], /cannot read the plan missing\.json: ENOENT/);

    // a plan is refused whole when one host's desired state is not the planned one (another mailfleet would render it so)
    const desired = structuredClone(rest);
    desired.hosts[1]!.desired_sha256 = "0".repeat(64);
    write(path.join(fleet.dir, "desired.json"), sealPlan(desired));
    await refused(["desired.json"], /refusing desired\.json: the desired state of db1 is not the one planned; nothing was changed: plan again/);

    // after all that, the plan itself still applies
    expect((await apply(fleet, "plan.json")).code).toBe(0);
  });

  it("a plan made in one checkout applies from another (CI: the plan job and the apply job run in different directories)", async () => {
    // the hosts are the same machines for both jobs: here sandboxes outside either checkout
    const hosts = mkdtempSync(path.join(os.tmpdir(), "mf-hosts-"));
    const fleet = exampleFleet({ password: { file: "secrets/relay-password" }, secret: SECRET });
    fleet.edit((doc) => {
      for (const h of ["web1", "db1"]) doc.setIn(["groups", "zones", "hosts", h, "transport", "root"], path.join(hosts, h));
    });
    const plan = await mailfleet(["plan", "-i", "zones.yaml", "--out", "plan.json"], { cwd: fleet.dir });
    expect(plan.code, plan.stderr).toBe(0);
    const other = mkdtempSync(path.join(os.tmpdir(), "mf-checkout-"));
    execFileSync("cp", ["-a", `${fleet.dir}/.`, other]);
    rmSync(fleet.dir, { recursive: true });
    const r = await mailfleet(["apply", "plan.json"], { cwd: other });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/web1: applied \d+ changes, verified/);
    expect(readFileSync(path.join(hosts, "web1", CONF, "remotes"), "utf8")).toContain(SECRET);
  });
});

describe("the stale check runs on the host, in the apply script, before its first write", () => {
  checkShells();
  it.each(SHELLS)("$name: facts changed after the plan: exit 76, no step run, nothing written", async (shell) => {
    const { root, target, plan } = await plannedExampleHost(SECRET);
    expect(plan.changes.length).toBeGreaterThan(3);
    // the host changes after the plan: a directory appears where a file will be written
    mkdirSync(path.join(root, CONF), { recursive: true });
    mkdirSync(path.join(root, "var/run"), { recursive: true });
    const before = tree(root);
    const script = applyScript(target.resources, plan.changes, target.ctx, plan.facts);
    const r = spawnSync(shell.argv[0]!, [...shell.argv.slice(1), "-s"], { input: script, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(76);
    expect(r.stdout.split("\n")).toContain(STALE);
    expect(r.stdout).not.toContain("@@step");
    expect(r.stderr).toContain("mailfleet: stale plan: this host changed since the plan; nothing was changed");
    expect(tree(root)).toEqual(before);
    // the same script with the host as planned goes ahead
    rmSync(path.join(root, "opt"), { recursive: true });
    rmSync(path.join(root, "var"), { recursive: true });
    const ok = spawnSync(shell.argv[0]!, [...shell.argv.slice(1), "-s"], { input: script, encoding: "utf8" });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("@@mailfleet-applied");
  });
});
