// What the users' earlier delivery path did wrong, measured against the real
// daemons, so docs/scanning.md can say why mailfleet builds none of it:
// - OpenSMTPD 6.8's own LMTP client (`action ... relay host lmtp://`) with
//   two recipients: Dovecot saves both and sends both replies at once,
//   OpenSMTPD takes the second for "too much data", tempfails a recipient
//   that was saved, retries it, and it is stored twice;
// - Python's smtplib.LMTP reads one reply after DATA (CPython #76984): with
//   two recipients the second reply is read as the answer to the next command;
// - `rspamc --mime --exec CMD` with rspamd down hands the message on
//   unscanned and exits 1, which an MDA caller takes for a permanent failure.
// The path mailfleet builds (scan-delivery.test.ts) has none of these.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dovecotTempDir, DOVECOT_USER, maildirMessageIds, startDovecot, type Dovecot } from "../support/dovecot.ts";
import { openNamespace } from "../support/namespace.ts";
import { waitFor } from "../support/wait.ts";
import { startOpenSmtpd, type OpenSmtpd } from "../support/opensmtpd.ts";
import { freePort } from "../support/ports.ts";
import { RSPAMD_ROOT, RSPAMD_USER } from "../support/rspamd.ts";

const BOBS = ["bob@one.example", "bob@two.example"];
let data: string;
let dovecot: Dovecot;
const figures: Record<string, unknown> = {};
const count = (user: string, id: string) => maildirMessageIds(path.join(data, "homes", user, "Maildir")).filter((m) => m === id).length;
const message = (id: string) => `From: alice@outside.example\nTo: ${BOBS.join(", ")}\nSubject: ${id}\nMessage-Id: <${id}@outside.example>\n\nhello\n`;

beforeAll(async () => {
  data = dovecotTempDir("mf-bridge-");
  const u = DOVECOT_USER;
  const passwd = path.join(data, "passwd");
  writeFileSync(passwd, BOBS.map((b) => `${b}::${u.uid}:${u.gid}::${data}/homes/${b}::`).join("\n") + "\n");
  writeFileSync(
    path.join(data, "dovecot.conf"),
    `protocols = lmtp\nssl = no\nmail_location = maildir:~/Maildir\npassdb {\n  driver = passwd-file\n  args = ${passwd}\n}\nuserdb {\n  driver = passwd-file\n  args = ${passwd}\n}\nservice lmtp {\n  inet_listener lmtp {\n    port = 24\n  }\n}\n`,
  );
  dovecot = await startDovecot({ config: path.join(data, "dovecot.conf") });
}, 60_000);

afterAll(async () => {
  await dovecot?.close();
  if (data) rmSync(data, { recursive: true, force: true });
  console.info(`bridge-faults figures: ${JSON.stringify(figures)}`);
}, 60_000);

describe("what the earlier bridge did wrong", () => {
  it("OpenSMTPD's `relay host lmtp://` stores a recipient of every two-recipient message twice", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mf-relay-lmtp-"));
    writeFileSync(path.join(dir, "smtpd.conf"), `action "lmtp" relay host lmtp://127.0.0.1:${dovecot.port("lmtp")}\nmatch from local for any action "lmtp"\n`);
    let smtpd: OpenSmtpd | undefined;
    const n = 5;
    try {
      smtpd = await startOpenSmtpd({ config: path.join(dir, "smtpd.conf"), ports: [] });
      for (let i = 0; i < n; i++) expect((await smtpd.sendmail(["-i", "-f", "alice@outside.example", "--", ...BOBS], message(`relay-lmtp-${i}`))).code).toBe(0);
      // the recipients it took for failed are retried after OpenSMTPD's back-off: schedule them until the queue is empty
      await waitFor("an empty queue", async () => {
        await smtpd!.scheduleAll();
        return (await smtpd!.queue()).length === 0;
      }, 90_000);
      const copies = Array.from({ length: n }, (_, i) => BOBS.map((b) => count(b, `<relay-lmtp-${i}@outside.example>`)));
      const stored = copies.flat().reduce((a, b) => a + b, 0);
      figures.relayHostLmtp = { messages: n, recipients: 2 * n, stored, copiesPerMessage: copies, tempFails: (smtpd.log().match(/result="TempFail" stat="Remote host sent too much data"/g) ?? []).length };
      // none lost, but more stored than sent: a recipient Dovecot had saved was tempfailed and delivered again
      expect(copies.every((c) => c.every((x) => x >= 1))).toBe(true);
      expect(stored).toBeGreaterThan(2 * n);
      expect(smtpd.log()).toMatch(/result="TempFail" stat="Remote host sent too much data"/);
    } finally {
      await smtpd?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("Python's smtplib.LMTP reads one reply after DATA: with two recipients the session desynchronises", async () => {
    const py = String.raw`
import smtplib, sys, json
port = int(sys.argv[1])
c = smtplib.LMTP("127.0.0.1", port)
out = []
for i in range(2):
    msg = "From: alice@outside.example\r\nSubject: py-%d\r\nMessage-Id: <py-lmtp-%d@outside.example>\r\n\r\nhello\r\n" % (i, i)
    try:
        refused = c.sendmail("alice@outside.example", ["bob@one.example", "bob@two.example"], msg)
        out.append({"ok": True, "refused": {k: list(v) for k, v in refused.items()}})
    except Exception as e:
        out.append({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})
print(json.dumps(out))
`;
    const r = await execa("/usr/bin/python3", ["-c", py, String(dovecot.port("lmtp"))], { reject: false, timeout: 30_000 });
    const out = JSON.parse(String(r.stdout)) as { ok: boolean; error?: string }[];
    figures.smtplibLmtp = out;
    // the first transaction "succeeds" after one reply; the second reads the first's leftover reply and fails
    expect(out[0]!.ok).toBe(true);
    expect(out[1]!.ok).toBe(false);
  }, 60_000);

  it("`rspamc --mime --exec` with rspamd down hands the message on unscanned and exits 1", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mf-rspamc-"));
    execFileSync("chmod", ["0777", dir]);
    const ns = await openNamespace(path.join(dir, "ns"), { packages: [RSPAMD_ROOT] });
    try {
      const down = await freePort();
      const out = path.join(dir, "delivered");
      // the MDA rspamc hands the message to (--exec runs a program, not a shell line)
      writeFileSync(path.join(dir, "deliver"), `#!/bin/sh\ncat > ${out}\n`, { mode: 0o755 });
      const r = await ns.exec("/usr/bin/rspamc", ["-h", `127.0.0.1:${down}`, "--mime", "--exec", path.join(dir, "deliver")], { input: message("rspamc"), runAs: RSPAMD_USER });
      const delivered = readFileSync(out, "utf8");
      figures.rspamcExec = { exit: r.code, delivered: delivered.includes("<rspamc@outside.example>"), header: /^X-Spam-Error: .*$/m.exec(delivered)?.[0] };
      expect(r.code).toBe(1);
      expect(delivered).toContain("Message-Id: <rspamc@outside.example>");
      expect(delivered).toMatch(/^X-Spam-Error: IO write error: Connection refused$/m);
    } finally {
      await ns.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
