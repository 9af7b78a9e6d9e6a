// A managed path holding another type of thing on the host (a directory where
// nullmailer's remotes goes, a file where a directory or FIFO goes, ...): plan
// shows the host refused with what is there and what was expected, apply
// writes nothing on it (its tree is byte for byte as before, no copy of the
// relay password anywhere in it) and lists it in the failure summary, and
// the other host of the fleet is applied as usual.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyScript } from "../../src/engine/scripts.ts";
import { mailfleet, withoutProgress } from "../support/cli.ts";
import { exampleFleet, plannedExampleHost } from "../support/fleet.ts";
import { checkShells, SHELLS } from "../support/shells.ts";
import { snapshotTree } from "../support/tree.ts";

const SECRET = "wrong-type-relay-secret-7f3a";
const CONF = "opt/local/etc/nullmailer";
const SPOOL = "var/spool/nullmailer";

interface Layout {
  name: string;
  /** Builds the wrong thing under web1's root. */
  make(root: string): void;
  /** What plan and apply say about it. */
  refusal: RegExp;
  /** Extra inventory settings for web1. */
  pausetime?: boolean;
}

const layouts: Layout[] = [
  {
    name: "nullmailer's remotes is a directory",
    make: (root) => {
      mkdirSync(path.join(root, CONF, "remotes"), { recursive: true });
      writeFileSync(path.join(root, CONF, "remotes/README"), "an admin's notes\n");
    },
    refusal: /\/opt\/local\/etc\/nullmailer\/remotes is a directory, but nullmailer:remotes manages a regular file there/,
  },
  {
    name: "remotes is a symbolic link",
    make: (root) => {
      mkdirSync(path.join(root, CONF), { recursive: true });
      writeFileSync(path.join(root, CONF, "remotes.site"), "relay.example.org smtp\n");
      symlinkSync("remotes.site", path.join(root, CONF, "remotes"));
    },
    refusal: /\/opt\/local\/etc\/nullmailer\/remotes is a symbolic link to remotes\.site, but nullmailer:remotes manages a regular file there/,
  },
  {
    name: "adminaddr is a FIFO",
    make: (root) => {
      mkdirSync(path.join(root, CONF), { recursive: true });
      execFileSync("mkfifo", [path.join(root, CONF, "adminaddr")]);
    },
    refusal: /\/opt\/local\/etc\/nullmailer\/adminaddr is a FIFO, but nullmailer:adminaddr manages a regular file there/,
  },
  {
    name: "the configuration directory is a regular file",
    make: (root) => {
      mkdirSync(path.join(root, "opt/local/etc"), { recursive: true });
      writeFileSync(path.join(root, CONF), "not a directory\n");
    },
    refusal: /\/opt\/local\/etc\/nullmailer is a regular file, but nullmailer:confdir manages a directory there/,
  },
  {
    name: "the trigger is a regular file where a FIFO goes",
    make: (root) => {
      mkdirSync(path.join(root, SPOOL), { recursive: true });
      writeFileSync(path.join(root, SPOOL, "trigger"), "");
    },
    refusal: /\/var\/spool\/nullmailer\/trigger is a regular file, but nullmailer:trigger manages a FIFO there/,
  },
  {
    name: "the spool's queue is a regular file where queued mail or a link goes",
    make: (root) => {
      mkdirSync(path.join(root, SPOOL), { recursive: true });
      writeFileSync(path.join(root, SPOOL, "queue"), "");
    },
    refusal: /\/var\/spool\/nullmailer\/queue is a regular file, but nullmailer:spool manages a directory of queued mail, or a link to \/home\/nullmailer-spool\/queue there/,
  },
  {
    name: "a removed setting's file (pausetime) is a directory",
    make: (root) => mkdirSync(path.join(root, CONF, "pausetime"), { recursive: true }),
    refusal: /\/opt\/local\/etc\/nullmailer\/pausetime is a directory, but nullmailer:pausetime manages a regular file, to be removed there/,
  },
];

function treeText(root: string): string {
  return snapshotTree(root)
    .map((e) => (e.type === "file" ? readFileSync(path.join(root, e.path), "latin1") : ""))
    .join("\n");
}

describe("a managed path of the wrong type: the host is refused, nothing is written on it", () => {
  it.each(layouts)("$name", async ({ make, refusal }) => {
    const fleet = exampleFleet({ password: { file: "secrets/relay-password" }, secret: SECRET });
    const web1 = path.join(fleet.dir, "sandbox/web1");
    make(web1);
    const before = snapshotTree(web1);

    const plan = await mailfleet(["plan", "-i", fleet.inventory, "--detailed-exitcode"]);
    expect(plan.code, plan.stderr).toBe(1);
    expect(plan.stdout).toMatch(new RegExp(`web1: error: refused: ${refusal.source}; mailfleet does not replace it: move it away, then apply again; nothing was written on web1`));
    expect(plan.stdout).toMatch(/^db1 \(smartos, /m);

    const apply = await mailfleet(["apply", "-i", fleet.inventory, "--yes"]);
    expect(apply.code).toBe(1);
    expect(apply.stdout).toMatch(/db1: applied \d+ changes, verified/);
    expect(apply.stdout).toMatch(/Apply: 1 host changed, 0 unchanged, 1 failed/);
    // the failure summary names the refused host and why
    expect(withoutProgress(apply.stderr)).toMatch(new RegExp(`1 host failed:\\n  web1: error: refused: ${refusal.source}`));
    expect(snapshotTree(web1)).toEqual(before);
    expect(treeText(web1)).not.toContain(SECRET);
    expect(treeText(path.join(fleet.dir, "sandbox/db1"))).toContain(SECRET);

    // moved away, the next apply converges
    execFileSync("rm", ["-rf", path.join(web1, CONF), path.join(web1, SPOOL)]);
    const again = await mailfleet(["apply", "-i", fleet.inventory, "--yes"]);
    expect(again.code, again.stderr).toBe(0);
    expect((await mailfleet(["plan", "-i", fleet.inventory, "--detailed-exitcode"])).code).toBe(0);
  });
});

describe("the write itself never renames onto a directory (the last guard, should the check before it be bypassed)", () => {
  checkShells();
  it.each(SHELLS)("$name: remotes became a directory after the plan: the apply stops there, no copy of the password inside it", async (shell) => {
    const { root, target, plan } = await plannedExampleHost(SECRET);
    mkdirSync(path.join(root, CONF, "remotes"), { recursive: true });
    // no planned facts: the script does not check the host first
    const r = spawnSync(shell.argv[0]!, [...shell.argv.slice(1), "-s"], { input: applyScript(target.resources, plan.changes, target.ctx), encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("mailfleet: /opt/local/etc/nullmailer/remotes is not a regular file");
    expect(r.stderr).toContain("mailfleet: cannot write /opt/local/etc/nullmailer/remotes");
    expect(readdirSync(path.join(root, CONF, "remotes"))).toEqual([]);
    expect(treeText(root)).not.toContain(SECRET);
  });
});
