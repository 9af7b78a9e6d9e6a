// A persistent spool that is the spool itself, lies inside it or holds it must
// never be "moved": the move would find every message already in place and
// unlink it. Refused at validate for every spelling of such a path, and
// refused again on the host (its own view of the paths, symlinks followed)
// whatever the inventory said: by the plan's probe, before anything is
// written, and by the move itself. Queued messages in queue/, tmp/ and failed/
// are counted byte for byte after every refusal.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyHost, planHost, prepareHost } from "../../src/engine/host.ts";
import { diffHost, makePlan } from "../../src/engine/plan.ts";
import { factsHash, parseProbeOutput, probeScript } from "../../src/engine/scripts.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { maskingResolver } from "../../src/inventory/secrets.ts";
import type { SpoolMoveResource } from "../../roles/nullmailer/spool-move.ts";
import { LocalTransport } from "../../src/transports/local.ts";
import { mailfleet, withoutProgress } from "../support/cli.ts";
import { checkShells, SHELLS } from "../support/shells.ts";
import { snapshotTree } from "../support/tree.ts";

const SPOOL = "var/spool/nullmailer";
const cleanup: string[] = [];
afterAll(() => cleanup.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A zone's sandbox tree with two messages in each of queue/, tmp/ and failed/ (8-bit bytes, CRLF, no final newline). */
function zone(): { dir: string; root: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-overlap-"));
  cleanup.push(dir);
  const root = path.join(dir, "sb/web1");
  for (const sub of ["queue", "tmp", "failed"]) {
    mkdirSync(path.join(root, SPOOL, sub), { recursive: true });
    for (let i = 0; i < 2; i++) {
      writeFileSync(path.join(root, SPOOL, sub, `17000000${i}.${sub}`), Buffer.concat([Buffer.from(`root@web1\nadmin@example.org\n\nSubject: ${sub} ${i}\r\n\r\n`), Buffer.from([0xe9, 0x00, 0x41])]));
    }
  }
  return { dir, root };
}

/** The inventory of the report, with `spool` as the group's persistent spool (line 9). */
function inventory(dir: string, spool: string): string {
  const file = path.join(dir, "inventory.yaml");
  writeFileSync(
    file,
    `defaults:
  domain: example.org
  adminaddr: root@example.org
  relay: { host: 10.200.0.7, port: 25 }
groups:
  zones:
    platform: smartos
    roles: [nullmailer]
    nullmailer: { persistentSpool: ${spool} }
    hosts:
      web1: { transport: { type: local, root: sb/web1 } }
`,
  );
  return file;
}

const messages = (root: string) => snapshotTree(path.join(root, SPOOL)).filter((e) => e.type === "file");

describe("a persistent spool overlapping the spool or the config directory is refused at validate", () => {
  const spellings = [
    "/var/spool/./nullmailer",
    "/var/spool//nullmailer",
    "//var/spool/nullmailer",
    "/var/./spool/nullmailer",
    "/var/spool/nullmailer/",
    "/var/spool",
    "/var/spool/nullmailer/keep",
    "/opt/local/etc/nullmailer",
    "/opt/local/etc/nullmailer/spool",
    "/opt/local",
    "/",
  ];
  it.each(spellings)("%s: refused with file:line:column and the field, nothing written, every message where it was", async (spelling) => {
    const { dir, root } = zone();
    const file = inventory(dir, spelling);
    const before = snapshotTree(dir);
    expect(messages(root)).toHaveLength(6);
    for (const cmd of [["validate"], ["plan"], ["apply", "--yes"]]) {
      const r = await mailfleet([...cmd, "-i", file]);
      expect(r.code, `${cmd[0]}: ${r.stderr}`).toBe(1);
      const line = r.stderr.split("\n").find((l) => l.includes("groups.zones.nullmailer.persistentSpool"));
      expect(line, r.stderr).toMatch(/inventory\.yaml:9:\d+: groups\.zones\.nullmailer\.persistentSpool: /);
      expect(line).toMatch(/(is|lies inside|contains) (nullmailer's spool \/var\/spool\/nullmailer|nullmailer's configuration directory \/opt\/local\/etc\/nullmailer|the system directory \/(var\/spool|opt\/local)?;)/);
      expect(line).toMatch(/must be a directory of its own/);
      expect(r.stderr).toMatch(/nothing was changed/);
      expect(r.stdout).toBe("");
    }
    expect(snapshotTree(dir)).toEqual(before);
  });

  it("paths are used in their normal form: plan and links show /home/keep for /home//keep/./", async () => {
    const { dir, root } = zone();
    const file = inventory(dir, "/home//keep/./");
    const plan = await mailfleet(["plan", "-i", file]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain("to /home/keep (6 queued files) and link them back");
    expect(plan.stdout).not.toMatch(/\/home\/\/|keep\/\.|keep\/ /);
    const apply = await mailfleet(["apply", "-i", file, "--yes"]);
    expect(apply.code, apply.stderr).toBe(0);
    const links = snapshotTree(path.join(root, SPOOL)).filter((e) => e.type === "link");
    expect(links.map((l) => `${l.path} -> ${l.content}`).sort()).toEqual(["failed -> /home/keep/failed", "queue -> /home/keep/queue", "tmp -> /home/keep/tmp"]);
    expect(snapshotTree(path.join(root, "home/keep")).filter((e) => e.type === "file")).toHaveLength(6);
  });
});

// Links inside a sandbox are relative: an absolute one would lead the kernel out of the tree.
describe("the host refuses a spool move onto or into itself, symlinks followed", () => {
  checkShells();
  const layouts: { name: string; spool: string; make: (root: string) => void; refusal: RegExp }[] = [
    {
      // refused at plan by the probe, before the config files ahead of the move are written
      name: "/home is a symlink to var/spool, so /home/nullmailer is the spool",
      spool: "/home/nullmailer",
      make: (root) => symlinkSync("var/spool", path.join(root, "home")),
      refusal:
        /refused: moving the spool \/var\/spool\/nullmailer into \/home\/nullmailer: on this host they are \/var\/spool\/nullmailer and \/var\/spool\/nullmailer, the same directory or one inside the other; nothing was written on web1/,
    },
    {
      name: "/home/keep/queue is left over as a link to the spool's queue",
      spool: "/home/keep",
      make: (root) => {
        mkdirSync(path.join(root, "home/keep"), { recursive: true });
        symlinkSync("../../var/spool/nullmailer/queue", path.join(root, "home/keep/queue"));
      },
      // refused at plan: the persistent queue must be a directory, not a link
      refusal: /refused: \/home\/keep\/queue is a symbolic link, but nullmailer:spool manages a directory for queued mail there; .*nothing was written on web1/,
    },
    {
      // refused at plan, before any move: a link is not the directory it expects
      name: "/home/keep itself is a symlink to the spool",
      spool: "/home/keep",
      make: (root) => {
        mkdirSync(path.join(root, "home"));
        symlinkSync("../var/spool/nullmailer", path.join(root, "home/keep"));
      },
      refusal:
        /refused: 2 managed paths hold something mailfleet does not replace; nothing was written on web1\n\s+\/home\/keep is a symbolic link to \.\.\/var\/spool\/nullmailer, but nullmailer:persistent manages a directory there; .*\n\s+moving the spool \/var\/spool\/nullmailer into \/home\/keep: on this host they are/,
    },
  ];
  for (const shell of SHELLS) {
    it.each(layouts)(`${shell.name}: $name: apply exits 1, every message still there byte for byte`, async ({ spool, make, refusal }) => {
      const { dir, root } = zone();
      make(root);
      const file = inventory(dir, spool);
      const before = messages(root);
      const validate = await mailfleet(["validate", "-i", file]);
      expect(validate.code, validate.stderr).toBe(0);
      const plan = await mailfleet(["plan", "-i", file], { env: { MAILFLEET_LOCAL_SHELL: shell.env } });
      expect(plan.code, plan.stdout).toBe(1);
      expect(withoutProgress(plan.stderr)).toMatch(refusal);
      const r = await mailfleet(["apply", "-i", file, "--yes"], { env: { MAILFLEET_LOCAL_SHELL: shell.env } });
      expect(r.code, r.stdout).toBe(1);
      expect(withoutProgress(r.stderr)).toMatch(refusal);
      expect(messages(root)).toEqual(before);
      expect(before).toHaveLength(6);
      // nothing at all was written: not even the config files the plan puts before the move
      expect(existsSync(path.join(root, "opt/local/etc/nullmailer"))).toBe(false);
    });
  }

  it.each(SHELLS)("$name: a spool move resource naming the spool in another spelling is refused by the probe, and by the move itself", async (shell) => {
    const { dir, root } = zone();
    const host = parseInventory(
      "hosts:\n  web1: { platform: smartos, roles: [nullmailer], domain: example.org, relay: { host: 10.200.0.7 } }\n",
      path.join(dir, "inventory.yaml"),
    ).hosts[0]!;
    const before = messages(root);
    for (const spelling of ["/var/spool/./nullmailer", "/var//spool/nullmailer/", "/var/spool/nullmailer/queue/.."]) {
      const move: SpoolMoveResource = { kind: "spoolMove", id: "t:spool", spool: "/var/spool/nullmailer", dir: spelling, subdirs: ["queue", "tmp", "failed"], mode: 0o700 };
      process.env.MAILFLEET_LOCAL_SHELL = shell.env;
      try {
        const t = { ...prepareHost(host, new LocalTransport(root), maskingResolver), resources: [move] };
        await expect(planHost(t)).rejects.toThrow(/^refused: moving the spool \/var\/spool\/nullmailer into .*; nothing was written on web1$/);
        // a plan that missed it (made by hand from the same probe) meets the move's own check
        const probed = await t.transport.run(probeScript(t.resources, t.ctx));
        const [change] = diffHost(t.resources, parseProbeOutput(probed.stdout)!, t.ctx);
        const plan = makePlan("web1", "local", t.ctx, [{ ...change!, conflict: undefined, data: { subs: "queue tmp failed", messages: 6 } }], factsHash(probed.stdout)!);
        const err = await applyHost(t, plan).then(
          () => null,
          (e: Error & { detail?: string }) => `${e.message}\n${e.detail ?? ""}`,
        );
        expect(err).toMatch(/apply failed .* at t:spool \(exit 1\)/);
        expect(err).toMatch(/refusing to move the spool \/var\/spool\/nullmailer into .*no message was moved/);
      } finally {
        delete process.env.MAILFLEET_LOCAL_SHELL;
      }
      expect(messages(root)).toEqual(before);
    }
  });
});
