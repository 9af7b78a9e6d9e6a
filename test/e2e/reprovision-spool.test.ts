// A zone reprovisioned around its persistent spool, as mailfleet sees it:
// the new image's spool is empty and the persistent directory holds what the
// old image queued, owned by the old image's uid. The plan counts what waits
// there (it used to say "0 queued files"), the apply gives those files to
// the MTA's user (they were left unreadable, "Permission denied", 0
// delivered, apply "verified"), and an inventory that forgot
// persistentSpool is refused with the count instead of leaving the mail
// there forever. Run as root on a directory tree with owners applied (the
// spool's own resources only: no package or service is touched).
import { chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyHost, planHost, prepareHost, type HostTarget } from "../../src/engine/host.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { maskingResolver } from "../../src/inventory/secrets.ts";
import { LocalTransport } from "../../src/transports/local.ts";

const OLD_UID = 4242;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const SPOOL_IDS = new Set(["nullmailer:spooldir", "nullmailer:persistent", "nullmailer:spool", "nullmailer:orphaned-spool", "nullmailer:spool-queue", "nullmailer:spool-tmp", "nullmailer:spool-failed"]);

/** A fresh image (an empty spool) beside a persistent spool holding `queued` messages and 3 failed ones of the old image's uid. */
function reprovisioned(queued: number, persistentSpool: boolean): { root: string; target: HostTarget } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-reprovision-"));
  dirs.push(dir);
  const root = path.join(dir, "zone");
  for (const d of ["queue", "tmp", "failed"]) mkdirSync(path.join(root, "var/spool/nullmailer", d), { recursive: true });
  const keep = path.join(root, "home/nullmailer-spool");
  for (const d of ["queue", "tmp", "failed"]) mkdirSync(path.join(keep, d), { recursive: true });
  for (let i = 0; i < queued; i++) writeFileSync(path.join(keep, "queue", `${1796000000 + i}.${100 + i}`), `root@zone1\nops@example.org\n\nSubject: queued ${i}\n\nbody\n`);
  for (let i = 0; i < 3; i++) writeFileSync(path.join(keep, "failed", `${1795000000 + i}.9`), `root@zone1\nnobody@example.org\n\nSubject: failed ${i}\n\n`);
  for (const sub of ["queue", "failed"]) for (const f of readdirSync(path.join(keep, sub))) chownSync(path.join(keep, sub, f), OLD_UID, OLD_UID);
  const file = path.join(dir, "inventory.yaml");
  writeFileSync(
    file,
    `hosts:
  zone1:
    platform: debian
    roles: [nullmailer]
    domain: example.org
    relay: { host: relay.example.org }
${persistentSpool ? "    nullmailer: { persistentSpool: /home/nullmailer-spool }\n" : ""}    transport: { type: local, root: ${root} }
`,
  );
  const host = parseInventory(readFileSync(file, "utf8"), file).hosts[0]!;
  const t = prepareHost(host, new LocalTransport(root), maskingResolver);
  // owners as on a real host (the sandbox leaves them out); the spool's resources only
  return { root, target: { ...t, ctx: { ...t.ctx, sandbox: false }, resources: t.resources.filter((r) => SPOOL_IDS.has(r.id)) } };
}

const owners = (d: string) => [...new Set(readdirSync(d).map((f) => statSync(path.join(d, f)).uid))];

describe("a zone reprovisioned around its persistent spool", () => {
  it("the plan counts what waits in the persistent spool and says its files go to the MTA's user; the apply links it back and gives them over; then no changes", async () => {
    const { root, target } = reprovisioned(1000, true);
    const plan = await planHost(target);
    const move = plan.changes.find((c) => c.id === "nullmailer:spool")!;
    expect(move.summary).toBe(
      "move /var/spool/nullmailer/queue, /var/spool/nullmailer/tmp, /var/spool/nullmailer/failed to /home/nullmailer-spool (0 queued files) and link them back; " +
        "1003 queued files already in /home/nullmailer-spool: kept, and delivered from there; " +
        "give /home/nullmailer-spool's 1003 queued files owned by another user to mail:root (an earlier image's uid), so that the MTA can read them",
    );
    const result = await applyHost(target, plan);
    expect(result.remaining).toEqual([]);
    const keep = path.join(root, "home/nullmailer-spool");
    const mail = statSync(path.join(root, "var/spool/nullmailer")).uid;
    expect(readdirSync(path.join(keep, "queue"))).toHaveLength(1000);
    expect(owners(path.join(keep, "queue"))).toEqual([mail]);
    expect(owners(path.join(keep, "failed"))).toEqual([mail]);
    expect(lstatSync(path.join(root, "var/spool/nullmailer/queue")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(root, "var/spool/nullmailer/queue"))).toBe("/home/nullmailer-spool/queue");
    expect((await planHost(target)).changes).toEqual([]);
  });

  it("files of another uid that turn up later in a linked spool are a change of their own, and the verify fails while they stay", async () => {
    const { root, target } = reprovisioned(5, true);
    await applyHost(target, await planHost(target));
    const late = path.join(root, "home/nullmailer-spool/queue/1796999999.1");
    writeFileSync(late, "root@zone1\nops@example.org\n\nSubject: late\n\n");
    chownSync(late, OLD_UID, OLD_UID);
    const plan = await planHost(target);
    expect(plan.changes.map((c) => c.summary)).toEqual(["give /home/nullmailer-spool's 1 queued file owned by another user to mail:root (an earlier image's uid), so that the MTA can read them"]);
    expect((await applyHost(target, plan)).remaining).toEqual([]);
    expect(statSync(late).uid).not.toBe(OLD_UID);
  });

  it("an inventory that forgot persistentSpool is refused with the count and what to set, and nothing is written", async () => {
    const { root, target } = reprovisioned(100, false);
    const before = readdirSync(path.join(root, "var/spool/nullmailer/queue"));
    await expect(planHost(target)).rejects.toThrow(
      "refused: /home/nullmailer-spool/queue holds 100 queued files, /home/nullmailer-spool/failed holds 3 queued files that nullmailer here would never send (nullmailer.persistentSpool is not set on this host): set nullmailer.persistentSpool: /home/nullmailer-spool to deliver them, or move them into /var/spool/nullmailer/queue yourself; nothing was written on zone1",
    );
    expect(readdirSync(path.join(root, "var/spool/nullmailer/queue"))).toEqual(before);
    expect(readdirSync(path.join(root, "home/nullmailer-spool/queue"))).toHaveLength(100);
  });
});
