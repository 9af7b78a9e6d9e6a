// A persistent spool: 1,000 queued messages move into it while the apply is
// killed (SIGKILL) at several points and run again; in the end exactly 1,000
// messages remain, byte-identical, and nothing is left half-moved.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyHost, planHost, prepareHost } from "../../src/engine/host.ts";
import { applyScript } from "../../src/engine/scripts.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { maskingResolver } from "../../src/inventory/secrets.ts";
import { LocalTransport } from "../../src/transports/local.ts";
import { runKilledAfter } from "../support/kill.ts";

const MESSAGES = 1000;
const SPOOL = "var/spool/nullmailer";
const cleanup: string[] = [];
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) execFileSync("umount", [m]);
  cleanup.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function message(i: number): Buffer {
  // nullmailer queue file: sender, recipients, blank line, message; some 8-bit bytes and CRLFs
  const body = `root@zone1\nadmin@example.org\n\nSubject: message ${i}\r\n\r\n${"x".repeat(i % 97)}\n`;
  return Buffer.concat([Buffer.from(body), Buffer.from([0xe9, 0x0a])]);
}

function seed(root: string): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const d of ["queue", "tmp", "failed"]) mkdirSync(path.join(root, SPOOL, d), { recursive: true });
  for (let i = 0; i < MESSAGES; i++) {
    const name = `${1700000000 + i}.${10000 + i}`;
    const data = message(i);
    writeFileSync(path.join(root, SPOOL, "queue", name), data);
    hashes.set(name, createHash("sha256").update(data).digest("hex"));
  }
  writeFileSync(path.join(root, SPOOL, "failed", "1600000000.1"), "failed message\n");
  return hashes;
}

function filesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

function inventory(dir: string, root: string): string {
  const file = path.join(dir, "inventory.yaml");
  writeFileSync(
    file,
    `hosts:
  zone1:
    platform: smartos
    roles: [nullmailer]
    domain: example.org
    relay: { host: relay.example.org }
    nullmailer: { persistentSpool: /home/nullmailer-spool }
    transport: { type: local, root: ${root} }
`,
  );
  return file;
}

async function moveWithKills(crossFilesystem: boolean) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-spool-"));
  cleanup.push(dir);
  const root = path.join(dir, "zone");
  const hashes = seed(root);
  if (crossFilesystem) {
    // The persistent spool on a filesystem of its own: a tmpfs mounted in the sandbox tree
    // (a symlink out of the tree would be refused: a sandbox is read and written only inside its root).
    const home = path.join(root, "home");
    mkdirSync(home, { recursive: true });
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64m,mode=0755", "mf-spool-move", home]);
    mounts.push(home);
  }
  const host = parseInventory(readFileSync(inventory(dir, root), "utf8"), path.join(dir, "inventory.yaml")).hosts[0]!;
  const target = prepareHost(host, new LocalTransport(root), maskingResolver);
  const queue = path.join(root, SPOOL, "queue");
  const persistentQueue = path.join(root, "home/nullmailer-spool/queue");
  const kills: { ms: number; inSpool: number; moved: number }[] = [];

  // Kill at growing delays until a run gets through; check after each kill that nothing was lost.
  for (let ms = 30, round = 0; round < 40; round++, ms = Math.round(ms * 1.5)) {
    const plan = await planHost(target);
    if (!plan.changes.some((c) => c.kind === "spoolMove")) break;
    await runKilledAfter(applyScript(target.resources, plan.changes, target.ctx), ms);
    const sources = [queue, `${queue}.mailfleet-old`].filter((d) => existsSync(d) && !lstatSync(d).isSymbolicLink());
    const inSpool = new Set(sources.flatMap(filesIn).filter((n) => !n.startsWith(".")));
    const moved = new Set(filesIn(persistentQueue).filter((n) => !n.startsWith(".")));
    const union = new Set([...inSpool, ...moved]);
    expect(union.size, `after a kill at ${ms} ms`).toBe(MESSAGES);
    for (const name of moved) {
      expect(createHash("sha256").update(readFileSync(path.join(persistentQueue, name))).digest("hex")).toBe(hashes.get(name));
    }
    kills.push({ ms, inSpool: inSpool.size, moved: moved.size });
  }
  // The last, uninterrupted apply through the normal path, with its verification.
  const plan = await planHost(target);
  const result = await applyHost(target, plan);
  expect(result.remaining).toEqual([]);
  expect((await planHost(target)).changes).toEqual([]);

  expect(lstatSync(queue).isSymbolicLink()).toBe(true);
  expect(readlinkSync(queue)).toBe("/home/nullmailer-spool/queue");
  const final = filesIn(persistentQueue);
  expect(final.length).toBe(MESSAGES);
  for (const name of final) {
    expect(createHash("sha256").update(readFileSync(path.join(persistentQueue, name))).digest("hex")).toBe(hashes.get(name));
  }
  expect(filesIn(path.join(root, "home/nullmailer-spool/failed"))).toEqual(["1600000000.1"]);
  expect(existsSync(`${queue}.mailfleet-old`)).toBe(false);
  return kills;
}

describe("persistent spool move", () => {
  it("same filesystem (link + unlink): killed at several points, 1,000 messages remain byte-identical", async () => {
    const kills = await moveWithKills(false);
    console.info("same-filesystem kills:", JSON.stringify(kills));
    expect(kills.length).toBeGreaterThanOrEqual(3);
    expect(kills.some((k) => k.moved > 0 && k.inSpool > 0)).toBe(true);
  }, 240_000);

  it("another filesystem (copy, sync, rename, unlink): killed mid-move and run again, 1,000 messages remain byte-identical", async () => {
    const kills = await moveWithKills(true);
    console.info("cross-filesystem kills:", JSON.stringify(kills));
    expect(kills.length).toBeGreaterThanOrEqual(3);
    // at least one kill landed while messages were on both sides
    expect(kills.some((k) => k.moved > 0 && k.inSpool > 0)).toBe(true);
  }, 240_000);

  it("messages that arrive in the old directory after the switch are still moved", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mf-spool-"));
    cleanup.push(dir);
    const root = path.join(dir, "zone");
    seed(root);
    const host = parseInventory(readFileSync(inventory(dir, root), "utf8"), path.join(dir, "inventory.yaml")).hosts[0]!;
    const target = prepareHost(host, new LocalTransport(root), maskingResolver);
    await applyHost(target, await planHost(target));
    // an interrupted run left a directory aside with a late message in it
    const old = path.join(root, SPOOL, "queue.mailfleet-old");
    mkdirSync(old);
    writeFileSync(path.join(old, "1800000000.1"), "late\n");
    const plan = await planHost(target);
    expect(plan.changes.map((c) => c.id)).toContain("nullmailer:spool");
    expect((await applyHost(target, plan)).remaining).toEqual([]);
    expect(readFileSync(path.join(root, "home/nullmailer-spool/queue/1800000000.1"), "utf8")).toBe("late\n");
    expect(filesIn(path.join(root, "home/nullmailer-spool/queue")).length).toBe(MESSAGES + 1);
  }, 120_000);
});
