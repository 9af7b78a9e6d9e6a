// A changed mail.base moves the mail store (src/resources/mail-store-move.ts).
// In a sandbox store host, 2,000 messages in 20 mailboxes (with Dovecot's
// index files) move while the apply is killed (SIGKILL to its process group)
// at growing delays and run again, on one filesystem (renames) and onto
// another (copies): after every kill each message is in the old store or the
// new one, byte for byte; at the end each is in the new one exactly once and
// nothing is left behind. Then on the hub with real Postfix and Dovecot: mail
// before the move, the plan naming what moves, the apply stopping and
// starting Dovecot, mail after it, every message read back over IMAP.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyHost, planHost, prepareHost } from "../../src/engine/host.ts";
import { parseInventory, type HostConfig } from "../../src/engine/inventory.ts";
import { applyScript } from "../../src/engine/scripts.ts";
import { maskingResolver } from "../../src/inventory/secrets.ts";
import { LocalTransport } from "../../src/transports/local.ts";
import { runKilledAfter } from "../support/kill.ts";
import { everyStep } from "../support/cleanup.ts";
import { imapMailbox, maildirMessages } from "../support/dovecot.ts";
import { testHub, type TestHub } from "../support/hub.ts";
import { hubHost, mailDomains, saveInventory } from "../support/inventory.ts";
import { swaks } from "../support/opensmtpd.ts";
import { postfixTool } from "../support/postfix.ts";
import { waitFor } from "../support/wait.ts";

const cleanup: string[] = [];
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) execFileSync("umount", [m]);
  cleanup.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Every file below `dir`, by path relative to it. */
function files(dir: string, rel = ""): string[] {
  if (!existsSync(path.join(dir, rel))) return [];
  return readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]));
}

describe("a mail store in a sandbox moved with kill -9 at growing delays", () => {
  const DOMAINS = ["one.example", "two.example"];
  const USERS = Array.from({ length: 10 }, (_, i) => `user${i}`);
  const PER_MAILBOX = 100;

  const storeInventory = (dir: string, root: string, base: string) => {
    const file = path.join(dir, "inventory.yaml");
    const users = USERS.map((u) => `${u}: { password: { env: MF_STORE_PW } }`).join(", ");
    writeFileSync(
      file,
      `defaults: { domain: example.org, adminaddr: root@example.org }
hosts:
  store:
    platform: debian
    roles: [dovecot]
    transport: { type: local, root: ${root} }
    dovecot: { tls: { cert: /etc/ssl/mail.pem, key: /etc/ssl/private/mail.key }, lmtp: { address: 10.0.0.5, clients: [10.0.0.2] } }
    mail:
      base: ${base}
      domains: { ${DOMAINS.map((d) => `${d}: { users: { ${users} } }`).join(", ")} }
`,
    );
    return parseInventory(readFileSync(file, "utf8"), file).hosts[0]!;
  };

  /** Messages (cur/ and new/) and Dovecot's files in every mailbox under <root><base>; returns relative path -> hash. */
  function seed(root: string, base: string): Map<string, string> {
    const hashes = new Map<string, string>();
    for (const d of DOMAINS) {
      for (const u of USERS) {
        const md = path.join(root, base, d, u, "Maildir");
        for (const sub of ["cur", "new", "tmp", ".Sent/cur", ".Sent/new", ".Sent/tmp"]) mkdirSync(path.join(md, sub), { recursive: true });
        for (let i = 0; i < PER_MAILBOX; i++) {
          const sub = i % 10 === 0 ? ".Sent/cur" : i % 3 ? "cur" : "new";
          const name = `${1700000000 + i}.M${i}P1.store${sub.endsWith("cur") ? ":2,S" : ""}`;
          const data = Buffer.from(`Message-Id: <${d}-${u}-${i}@test.invalid>\r\nSubject: ${i}\r\n\r\n${"x".repeat(i * 37)}\r\n`);
          writeFileSync(path.join(md, sub, name), data);
          hashes.set(path.join(d, u, "Maildir", sub, name), sha(data));
        }
        for (const f of ["dovecot-uidlist", "dovecot.index.log", "subscriptions"]) {
          const data = Buffer.from(`${f} of ${d}/${u}\n`);
          writeFileSync(path.join(md, f), data);
          hashes.set(path.join(d, u, "Maildir", f), sha(data));
        }
      }
    }
    return hashes;
  }

  async function moveWithKills(crossFilesystem: boolean) {
    process.env.MF_STORE_PW = "store password";
    const dir = mkdtempSync(path.join(os.tmpdir(), "mf-store-"));
    cleanup.push(dir);
    const root = path.join(dir, "store");
    const [from, to] = ["/var/vmail", "/srv/vmail"];
    mkdirSync(path.join(root, "srv"), { recursive: true });
    if (crossFilesystem) {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=256m,mode=0755", "mf-store-move", path.join(root, "srv")]);
      mounts.push(path.join(root, "srv"));
    }
    // the store as it was: its passwd-file says the mailboxes are under /var/vmail
    let host = storeInventory(dir, root, from);
    let target = prepareHost(host, new LocalTransport(root), maskingResolver);
    await applyHost(target, await planHost(target));
    const hashes = seed(root, from);
    host = storeInventory(dir, root, to);
    target = prepareHost(host, new LocalTransport(root), maskingResolver);
    const first = await planHost(target);
    expect(first.changes.find((c) => c.kind === "mailStoreMove")?.summary).toBe(
      `move the mail store ${from} to ${to} (20 mailboxes, ${20 * PER_MAILBOX} messages), dovecot stopped meanwhile (mail for it waits in the MTA's queue)`,
    );

    const kills: { ms: number; old: number; moved: number }[] = [];
    for (let ms = 20, round = 0; round < 40; round++, ms = Math.round(ms * 1.5)) {
      const plan = await planHost(target);
      if (!plan.changes.some((c) => c.kind === "mailStoreMove")) break;
      await runKilledAfter(applyScript(target.resources, plan.changes, target.ctx), ms);
      const old = new Set(files(path.join(root, from)).filter((f) => !f.includes(".mailfleet")));
      const moved = new Set(files(path.join(root, to)).filter((f) => !f.includes(".mailfleet")));
      // every message in one store or both, whole
      expect([...hashes.keys()].filter((f) => !old.has(f) && !moved.has(f)), `after a kill at ${ms} ms`).toEqual([]);
      for (const f of moved) expect(sha(readFileSync(path.join(root, to, f))), f).toBe(hashes.get(f));
      kills.push({ ms, old: old.size, moved: moved.size });
    }
    const plan = await planHost(target);
    expect((await applyHost(target, plan)).remaining).toEqual([]);
    expect((await planHost(target)).changes).toEqual([]);
    // exactly once, in the new store; the old one gone; no part left
    const final = files(path.join(root, to));
    expect(final.filter((f) => f.includes(".mailfleet"))).toEqual([]);
    expect(final.sort()).toEqual([...hashes.keys()].sort());
    for (const f of final) expect(sha(readFileSync(path.join(root, to, f))), f).toBe(hashes.get(f));
    expect(existsSync(path.join(root, from))).toBe(false);
    expect(readFileSync(path.join(root, "etc/dovecot/users"), "utf8")).toContain(`:${to}/one.example/user0:`);
    return kills;
  }

  it("on one filesystem (a rename a mailbox): killed at several points, 2,000 messages remain, byte-identical, once", async () => {
    const kills = await moveWithKills(false);
    console.info("mail store, same filesystem, kills:", JSON.stringify(kills));
    expect(kills.length).toBeGreaterThanOrEqual(2);
  }, 300_000);

  it("onto another filesystem (copy, sync, rename, remove): killed mid-move and run again, 2,000 messages remain, byte-identical, once", async () => {
    const kills = await moveWithKills(true);
    console.info("mail store, another filesystem, kills:", JSON.stringify(kills));
    expect(kills.length).toBeGreaterThanOrEqual(3);
    // at least one kill landed while mailboxes were on both sides
    expect(kills.some((k) => k.moved > 0 && k.old > 0)).toBe(true);
  }, 300_000);
});

describe("the hub's mail store moved with real Postfix and Dovecot: mail before, the move, mail after", () => {
  const PASSWORDS = { "bob@one.example": "bob one pw", "bob@two.example": "bob two pw", "admin@example.org": "admin pw" } as const;
  type Address = keyof typeof PASSWORDS;
  let th: TestHub;
  let work: string;
  let hosts: HostConfig[];
  afterAll(() => everyStep([() => th?.close(), () => work && rmSync(work, { recursive: true, force: true })]), 120_000);

  const write = (base: string) => {
    const f = th.fragments;
    hosts = saveInventory(path.join(work, "inventory.yaml"), {
      defaults: { domain: "example.org", adminaddr: "root@example.org" },
      hosts: {
        hub: hubHost({
          address: "127.0.0.1",
          hub: { port: th.port, interfaces: ["127.0.0.1"], mainCf: f.instance },
          dovecot: { tls: f.tls },
          mail: {
            owner: f.owner,
            base,
            domains: mailDomains(work, {
              "example.org": { users: ["admin"], aliases: { root: "admin" } },
              "one.example": { users: ["bob"] },
              "two.example": { users: ["bob"] },
            }),
          },
        }),
      },
    });
  };
  const target = () => th.target(hosts[0]!, hosts);
  let serial = 0;
  const send = async (to: Address) => {
    const id = `<move-${++serial}-${Date.now()}@test.invalid>`;
    const r = await swaks({ port: th.port, from: "someone@outside.test", to: [to], message: `Message-Id: ${id}\nSubject: ${serial}\n\nhello\n` });
    expect(r.dataReply, r.transcript).toMatch(/^250 /);
    return id;
  };

  it("the plan names what moves, the apply moves it with Dovecot stopped meanwhile, and every message is read back once", async () => {
    work = mkdtempSync(path.join(os.tmpdir(), "mf-store-hub-"));
    for (const [a, pw] of Object.entries(PASSWORDS)) writeFileSync(path.join(work, a), `${pw}\n`, { mode: 0o600 });
    th = await testHub("store-move", "hub.example.org");
    const [from, to] = [path.join(th.data, "vmail"), path.join(th.data, "moved/vmail")];
    write(from);
    await th.apply(target(), Object.values(PASSWORDS));
    await th.startDovecot();
    const before = [await send("bob@one.example"), await send("bob@one.example"), await send("bob@two.example")];
    const maildir = (base: string, a: Address) => path.join(base, a.split("@")[1]!, a.split("@")[0]!, "Maildir");
    await waitFor("the first three in the old store", () => maildirMessages(maildir(from, "bob@one.example")).length === 2 && maildirMessages(maildir(from, "bob@two.example")).length === 1, 60_000);

    write(to);
    const { plan, text } = await th.apply(target(), Object.values(PASSWORDS));
    expect(plan.changes.find((c) => c.kind === "mailStoreMove")?.summary).toBe(
      `move the mail store ${from} to ${to} (2 mailboxes, 3 messages), dovecot stopped meanwhile (mail for it waits in the MTA's queue)`,
    );
    expect(text).toContain("move the mail store");
    expect(plan.changes.map((c) => `${c.id} ${c.action}`)).toEqual(expect.arrayContaining(["dovecot:mail-store move", "dovecot:passwd-file update", "dovecot:service reload"]));
    expect(existsSync(from)).toBe(false);
    expect(maildirMessages(maildir(to, "bob@one.example")).map((m) => m.messageId).sort()).toEqual(before.slice(0, 2).sort());
    await waitFor("Dovecot running again", () => th.dovecot!.running(), 30_000);

    const after = [await send("bob@one.example"), await send("bob@two.example")];
    await postfixTool("postqueue", ["-c", th.postfix.conf, "-f"]);
    await waitFor("the later two in the new store", () => maildirMessages(maildir(to, "bob@one.example")).length === 3 && maildirMessages(maildir(to, "bob@two.example")).length === 2, 60_000);
    const one = await imapMailbox({ port: th.dovecot!.port("imap"), user: "bob@one.example", password: PASSWORDS["bob@one.example"], tls: "starttls" });
    expect(one).toEqual({ login: "ok", count: 3, messageIds: expect.arrayContaining([before[0], before[1], after[0]]) });
    const two = await imapMailbox({ port: th.dovecot!.port("imap"), user: "bob@two.example", password: PASSWORDS["bob@two.example"], tls: "starttls" });
    expect(two).toEqual({ login: "ok", count: 2, messageIds: expect.arrayContaining([before[2], after[1]]) });
    expect((await planHost(target())).changes).toEqual([]);
  }, 240_000);
});
