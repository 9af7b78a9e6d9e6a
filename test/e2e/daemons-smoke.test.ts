// The receiving side's daemons, from Debian 12's packages unpacked under
// .deps/, working together on loopback: Dovecot 2.3 (passwd-file, Maildir,
// LMTP, IMAP, POP3), OpenSMTPD 6.8 scanning through filter-rspamd with
// rspamd 3.4, delivering over LMTP to that Dovecot. Configs here are written
// by the test, as a role's would be; the support modules add only what makes
// them run on this machine (ports, temp paths, the namespace).
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  doveadmPw,
  doveadmPwVerify,
  dovecotTempDir,
  DOVECOT_USER,
  imapMailbox,
  lmtpSend,
  maildirMessageIds,
  pop3Mailbox,
  startDovecot,
  type Dovecot,
} from "../support/dovecot.ts";
import { waitFor } from "../support/wait.ts";
import { smtpdCheck, startOpenSmtpd, swaks, type OpenSmtpd } from "../support/opensmtpd.ts";
import { freePort } from "../support/ports.ts";
import { startRspamd, type Rspamd } from "../support/rspamd.ts";

const USERS = { "bob@one.example": "one's s3cret pass", "bob@two.example": 'two "quoted" pass' } as const;
type User = keyof typeof USERS;
const BOBS = Object.keys(USERS) as User[];

let data: string;
let dovecot: Dovecot | undefined;
let rspamd: Rspamd | undefined;
let smtpd: OpenSmtpd | undefined;
let smtpPort: number;
const timings: Record<string, number | undefined> = {};

const maildir = (user: User) => path.join(data, "homes", user, "Maildir");
/** How many times each bob's Maildir holds `id`. */
const stored = (id: string) => Object.fromEntries(BOBS.map((u) => [u, maildirMessageIds(maildir(u)).filter((m) => m === id).length]));
const none = Object.fromEntries(BOBS.map((u) => [u, 0]));
const once = Object.fromEntries(BOBS.map((u) => [u, 1]));

let serial = 0;
function message(subject: string, body = "Hello, both of you.\n") {
  const id = `<smoke-${Date.now()}-${++serial}@outside.example>`;
  const text = `From: Alice <alice@outside.example>\nTo: bob@one.example, bob@two.example\nSubject: ${subject}\nMessage-Id: ${id}\nDate: ${new Date().toUTCString()}\n\n${body}`;
  return { id, text };
}

beforeAll(async () => {
  const t0 = Date.now();
  data = dovecotTempDir();
  const u = DOVECOT_USER;
  const passwd = path.join(data, "passwd");
  const lines: string[] = [];
  for (const user of BOBS) {
    const hash = await doveadmPw(USERS[user]);
    expect(hash).toMatch(/^\{SHA512-CRYPT\}\$6\$/);
    lines.push(`${user}:${hash}:${u.uid}:${u.gid}::${path.join(data, "homes", user)}::`);
  }
  writeFileSync(passwd, `${lines.join("\n")}\n`);
  const conf = path.join(data, "dovecot.conf");
  writeFileSync(
    conf,
    `protocols = imap pop3 lmtp
ssl = no
auth_mechanisms = plain
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT username_format=%u ${passwd}
}
userdb {
  driver = passwd-file
  args = username_format=%u ${passwd}
}
service imap-login {
  inet_listener imap {
    port = 143
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
}
service lmtp {
  inet_listener lmtp {
    port = 24
  }
  unix_listener lmtp {
    mode = 0666
  }
}
`,
  );
  dovecot = await startDovecot({ config: conf });
  timings.dovecotStart = Date.now() - t0;
}, 60_000);

afterAll(async () => {
  const errors: unknown[] = [];
  for (const d of [smtpd, rspamd, dovecot]) await d?.close().catch((e: unknown) => errors.push(e));
  if (data) rmSync(data, { recursive: true, force: true });
  console.info(`daemons-smoke timings (ms): ${JSON.stringify(timings)}`);
  if (errors.length) throw errors[0];
}, 60_000);

describe("Dovecot 2.3: passwd-file users, LMTP into Maildir, IMAP and POP3", () => {
  it("hashes from doveadm pw verify, and the config passes doveconf -n with the test overrides", async () => {
    expect(await doveadmPwVerify(await doveadmPw("x"), "x")).toBe(true);
    expect(await doveadmPwVerify(await doveadmPw("x"), "y")).toBe(false);
    const check = await dovecot!.checkConfig();
    expect(check.code, check.stderr).toBe(0);
    expect(Object.keys(dovecot!.ports).sort()).toEqual(["imap", "lmtp", "pop3"]);
  });

  it("stores an LMTP message with two recipients exactly once in each Maildir; each bob reads it over IMAP and POP3", async () => {
    const m = message("over LMTP");
    const r = await lmtpSend({ socket: dovecot!.socket("lmtp") }, { from: "alice@outside.example", rcpts: BOBS }, m.text);
    expect(r.rcpt).toEqual(["250 2.1.5 OK", "250 2.1.5 OK"]);
    expect(r.data).toHaveLength(2);
    expect(r.data[0]).toMatch(/^250 2\.0\.0 <bob@one\.example> .* Saved$/);
    expect(r.data[1]).toMatch(/^250 2\.0\.0 <bob@two\.example> .* Saved$/);
    expect(stored(m.id)).toEqual(once);
    for (const user of BOBS) {
      const imap = await imapMailbox({ port: dovecot!.port("imap"), user, password: USERS[user] });
      expect(imap).toEqual({ login: "ok", count: 1, messageIds: [m.id] });
      const pop3 = await pop3Mailbox({ port: dovecot!.port("pop3"), user, password: USERS[user] });
      expect(pop3).toEqual({ login: "ok", count: 1, messageIds: [m.id] });
    }
  });

  it("refuses a wrong password (and the other bob's) over IMAP and POP3", async () => {
    const imap = await imapMailbox({ port: dovecot!.port("imap"), user: "bob@one.example", password: USERS["bob@two.example"] });
    expect(imap).toEqual({ login: "refused", reply: expect.stringMatching(/AUTHENTICATIONFAILED/) });
    const pop3 = await pop3Mailbox({ port: dovecot!.port("pop3"), user: "bob@two.example", password: "wrong" });
    expect(pop3).toEqual({ login: "refused", reply: expect.stringMatching(/^-ERR \[AUTH\]/) });
  });
});

describe("OpenSMTPD 6.8 with filter-rspamd, delivering over LMTP to Dovecot", () => {
  beforeAll(async () => {
    const t0 = Date.now();
    rspamd = await startRspamd();
    timings.rspamdPing = rspamd.timings.ping;
    timings.rspamdHyperscan = rspamd.timings.hyperscan;
    timings.rspamdStart = Date.now() - t0;

    smtpPort = await freePort();
    const conf = path.join(data, "smtpd");
    mkdirSync(conf);
    chmodSync(conf, 0o755);
    writeFileSync(path.join(conf, "vusers"), BOBS.map((b) => `${b} vmail`).join("\n") + "\n");
    writeFileSync(path.join(conf, "domains"), "one.example\ntwo.example\n");
    const smtpdConf = path.join(conf, "smtpd.conf");
    writeFileSync(
      smtpdConf,
      `table vusers file:${conf}/vusers
table domains file:${conf}/domains
filter "rspamd" proc-exec "filter-rspamd -url ${rspamd.url}"
listen on 127.0.0.1 port ${smtpPort} filter "rspamd"
action "local" lmtp "127.0.0.1:${dovecot!.port("lmtp")}" rcpt-to virtual <vusers>
match from any for domain <domains> action "local"
`,
    );
    const check = await smtpdCheck(smtpdConf);
    expect(check.code, check.stderr).toBe(0);
    const t1 = Date.now();
    smtpd = await startOpenSmtpd({ config: smtpdConf, users: ["vmail"] });
    timings.smtpdStart = Date.now() - t1;
  }, 240_000);

  const send = (m: { text: string }) => swaks({ port: smtpPort, from: "alice@outside.example", to: BOBS, message: m.text });
  const queueEmpty = async () => (await smtpd!.queue()).length === 0;

  it("delivers a message for both bobs once to each", async () => {
    const m = message("through OpenSMTPD");
    const r = await send(m);
    expect(r.dataReply, r.transcript).toMatch(/^250 /);
    await waitFor("delivery to both Maildirs", () => Object.values(stored(m.id)).every((n) => n > 0));
    await waitFor("an empty queue", queueEmpty);
    expect(stored(m.id)).toEqual(once);
    expect(smtpd!.log()).not.toMatch(/TempFail/);
  });

  it("refuses GTUBE with 550 at DATA and stores nothing", async () => {
    const m = message("GTUBE", "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n");
    const r = await send(m);
    expect(r.dataReply, r.transcript).toBe("550 Gtube pattern");
    expect(r.code).toBe(26);
    expect(await smtpd!.queue()).toEqual([]);
    expect(stored(m.id)).toEqual(none);
  });

  it("answers 4xx at DATA while rspamd is down, stores nothing, and scans again once it is back", async () => {
    await rspamd!.stop();
    try {
      const m = message("rspamd down");
      const r = await send(m);
      expect(r.dataReply, r.transcript).toMatch(/^4\d\d /);
      expect(await smtpd!.queue()).toEqual([]);
      expect(stored(m.id)).toEqual(none);
    } finally {
      const t = Date.now();
      await rspamd!.start();
      timings.rspamdRestart = Date.now() - t;
    }
    const again = message("rspamd back");
    expect((await send(again)).dataReply).toMatch(/^250 /);
    await waitFor("delivery after rspamd's restart", () => Object.values(stored(again.id)).every((n) => n > 0));
  });

  it("keeps the message queued while Dovecot is down; once it is back, `smtpctl schedule all` delivers it exactly once", async () => {
    await waitFor("an empty queue", queueEmpty);
    await dovecot!.stop();
    const m = message("Dovecot down");
    try {
      const r = await send(m);
      expect(r.dataReply, r.transcript).toMatch(/^250 /);
      await waitFor("both envelopes deferred", async () => {
        const q = await smtpd!.queue();
        return q.length === 2 && q.every((e) => e.retries >= 1);
      });
      const q = await smtpd!.queue();
      expect(q.map((e) => e.to).sort()).toEqual(BOBS);
      expect(q.every((e) => e.type === "mda" && /mail\.lmtp: connect/.test(e.error))).toBe(true);
      expect(stored(m.id)).toEqual(none);
    } finally {
      await dovecot!.start();
    }
    await smtpd!.scheduleAll();
    await waitFor("delivery once Dovecot is back", () => Object.values(stored(m.id)).every((n) => n > 0));
    await waitFor("an empty queue", queueEmpty);
    expect(stored(m.id)).toEqual(once);
  });
});
