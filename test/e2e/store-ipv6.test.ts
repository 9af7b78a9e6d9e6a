// The store's LMTP admission over IPv6, with the real Dovecot 2.3 the dovecot
// role configures: the store lets in exactly the MTAs that deliver there
// (by the address the inventory gives them, keyed by its canonical IPv6 form)
// and refuses every other client at RCPT (550 5.1.1), nothing stored. The
// hub that names the store delivers from ::1 (this machine); an MTA outside
// the inventory is listed in dovecot.lmtp.clients by its long form and
// connects from an outside network namespace (fd79::3); another client of
// that namespace (fd79::2) is a stranger.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dovecot as dovecotRole } from "../../roles/dovecot/index.ts";
import type { DovecotData } from "../../roles/dovecot/platforms.ts";
import { hostContext } from "../../src/engine/desired.ts";
import { applyHost, planHost } from "../../src/engine/host.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { roleResources } from "../../src/engine/roles.ts";
import { revealingResolver } from "../../src/inventory/secrets.ts";
import { debian } from "../../src/platforms/debian.ts";
import { LocalTransport } from "../../src/transports/local.ts";
import { everyStep } from "../support/cleanup.ts";
import { dovecotRoleDir, DOVECOT_USER, lmtpSend, maildirMessageIds, startDovecot, type Dovecot } from "../support/dovecot.ts";
import { outsideNetwork, type OutsideNetwork } from "../support/netns.ts";
import { rawSmtp } from "../support/smtp-client.ts";

let outside: OutsideNetwork;
let dovecot: Dovecot;
let data: string;
let dovecotData: DovecotData;
const work = mkdtempSync(path.join(os.tmpdir(), "mf-store6-"));

beforeAll(async () => {
  outside = await outsideNetwork({ v4: "10.79.0", v6: "fd79:0:0:0", clients: 2 });
  ({ data, dovecotData } = dovecotRoleDir("mf-store6-dovecot-", "store.example.org"));
  const u = DOVECOT_USER;
  const inventory = path.join(work, "inventory.yaml");
  writeFileSync(path.join(work, "pw"), "store pw\n", { mode: 0o600 });
  writeFileSync(
    inventory,
    `defaults:
  domain: example.org
  adminaddr: root@example.org
  mail:
    owner: { user: ${u.user}, group: ${u.group}, uid: ${u.uid}, gid: ${u.gid} }
    base: ${data}/vmail
    domains:
      example.org: { users: { root: { password: { file: ${path.join(work, "pw")} } } } }
      one.example: { users: { bob: { password: { file: ${path.join(work, "pw")} } } } }
hosts:
  mx:
    platform: debian
    roles: [postfix-hub]
    address: "::1"
    hub: { store: store }
  store:
    platform: debian
    roles: [dovecot]
    address: "::1"
    dovecot:
      tls: { cert: ${data}/tls/cert.pem, key: ${data}/tls/key.pem }
      lmtp: { clients: ["fd79:0000:0000:0000:0000:0000:0000:0003"] }
`,
  );
  const hosts = parseInventory(readFileSync(inventory, "utf8"), inventory).hosts;
  const store = hosts.find((h) => h.name === "store")!;
  const resources = roleResources(dovecotRole, store, { platform: debian, data: dovecotData, secrets: revealingResolver(store.inventoryDir), fleet: hosts }).filter(
    (r) => r.kind !== "package" && r.kind !== "service",
  );
  const target = { host: store, transport: new LocalTransport(), ctx: hostContext(debian, ""), resources };
  expect((await applyHost(target, await planHost(target))).remaining).toEqual([]);
  dovecot = await startDovecot({ config: dovecotData.config, addresses: ["::1", outside.host.v6] });
}, 120_000);

afterAll(() => everyStep([() => dovecot?.close(), () => outside?.close(), () => rmSync(work, { recursive: true, force: true }), () => data && rmSync(data, { recursive: true, force: true })]), 60_000);

const maildir = (user: string, domain: string) => path.join(data, "vmail", domain, user, "Maildir");
let serial = 0;
const message = () => {
  const id = `<store6-${Date.now()}-${++serial}@test.invalid>`;
  return { id, text: `Message-Id: ${id}\nSubject: over IPv6\n\nhello\n` };
};

describe("the store's LMTP over IPv6 takes mail from its MTAs only", () => {
  it("lmtp-clients keys the hub's ::1 and the listed client in their canonical form", () => {
    const clients = readFileSync(path.join(data, "etc/lmtp-clients"), "utf8");
    expect(clients).toMatch(/^# [0-9a-f]{64} = ::1 \(mx\)$/m);
    expect(clients).toMatch(/^# [0-9a-f]{64} = fd79::3 /m);
  });

  it("the hub's address (::1) delivers: 250 per recipient, stored once each", async () => {
    const m = message();
    const r = await lmtpSend({ port: dovecot.port("lmtp"), host: "::1", localAddress: "::1" }, { from: "someone@outside.test", rcpts: ["bob@one.example", "root@example.org"] }, m.text);
    expect(r.rcpt.map((x) => x.slice(0, 3))).toEqual(["250", "250"]);
    expect(r.data.map((x) => x.slice(0, 3))).toEqual(["250", "250"]);
    expect(maildirMessageIds(maildir("bob", "one.example")).filter((x) => x === m.id)).toHaveLength(1);
    expect(maildirMessageIds(maildir("root", "example.org")).filter((x) => x === m.id)).toHaveLength(1);
  });

  it("from the outside namespace, the listed client (fd79::3) delivers and a stranger (fd79::2) gets 550 5.1.1 for every recipient, nothing stored", async () => {
    const talk = (source: string, m: { text: string }) =>
      rawSmtp({
        via: outside,
        host: outside.host.v6,
        port: dovecot.port("lmtp"),
        source,
        steps: [
          { send: "LHLO outside.test\r\n" },
          { send: "MAIL FROM:<someone@outside.test>\r\n" },
          { send: "RCPT TO:<bob@one.example>\r\n" },
          { send: "RCPT TO:<root@example.org>\r\n" },
          { send: "DATA\r\n" },
          { send: `${m.text.replace(/\n/g, "\r\n")}.\r\n`, replies: 2 },
          { send: "QUIT\r\n" },
        ],
      });
    const listed = message();
    const ok = await talk(outside.clients.v6[1]!, listed);
    expect(ok.replies.slice(2, 6).map((x) => x.map((y) => y.slice(0, 3))), JSON.stringify(ok)).toEqual([["250"], ["250"], ["354"], ["250", "250"]]);
    expect(maildirMessageIds(maildir("bob", "one.example")).filter((x) => x === listed.id)).toHaveLength(1);

    const stranger = message();
    const refused = await talk(outside.clients.v6[0]!, stranger);
    expect(refused.replies[2]![0], JSON.stringify(refused)).toMatch(/^550 5\.1\.1 <bob@one\.example> User doesn't exist/);
    expect(refused.replies[3]![0]).toMatch(/^550 5\.1\.1 <root@example\.org> User doesn't exist/);
    expect(refused.replies[4]![0]).toMatch(/^503 5\.5\.0 No valid recipients/);
    for (const [u, d] of [["bob", "one.example"], ["root", "example.org"]] as const) expect(maildirMessageIds(maildir(u, d))).not.toContain(stranger.id);
  });
});
