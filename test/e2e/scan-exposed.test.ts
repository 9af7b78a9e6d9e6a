// The scan host as the internet sees it: OpenSMTPD 6.8 with the role's guard
// and filter-rspamd, rspamd 3.4 and the Dovecot 2.3 store, configured by the
// three roles (test/support/scan-pipeline.ts), and every client outside in its
// own network namespace over a veth pair (test/support/netns.ts), speaking
// byte-exact SMTP (test/support/smtp-raw.mjs) over IPv4 and IPv6. Each test
// names the reply codes it gets and counts what ended up in the Maildirs of
// the store and in smtpd's queue.
//
// Addresses: this machine's end of the link is 10.77.3.1 and fd77:3::1 (smtpd
// listens there, and on 127.0.0.1 for the helper's checks); the outsider is
// 10.77.3.2 / fd77:3::2; the fleet's hosts web1 (10.77.3.3) and web6
// (fd77:3::3) relay through the scan host, so they are in its relay networks.
// The scan host's outbound relay is an smtp-sink on 127.0.0.3.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { templates } from "../../roles/opensmtpd/resources.ts";
import { opensmtpdPlatforms } from "../../roles/opensmtpd/platforms.ts";
import { REPO } from "../support/cli.ts";
import { maildirMessages } from "../support/dovecot.ts";
import { waitFor } from "../support/wait.ts";
import { outsideNetwork, type OutsideNetwork } from "../support/netns.ts";
import { startSmtpSink, type SmtpSink } from "../support/smtp-sink.ts";
import { RSPAMD_OFFLINE, scanInventoryParts, startScanPipeline, type ScanInventoryInput, type ScanPipeline } from "../support/scan-pipeline.ts";

const V4 = "10.77.3";
const V6 = "fd77:3:0:0";
const MAX = 1024 * 1024;
const LINE_MAX = opensmtpdPlatforms.debian.filterLineMax;
const PASSWORDS = { "bob@one.example": "bob one", "bob@two.example": "bob two", "admin@example.org": "admin" } as const;
type Address = keyof typeof PASSWORDS;
const RAW = path.join(REPO, "test/support/smtp-raw.mjs");
const figures: Record<string, unknown> = {};

let net: OutsideNetwork;
let sink: SmtpSink;
let p: ScanPipeline;

function inventory({ data, ports, secret }: ScanInventoryInput) {
  const parts = scanInventoryParts({ data, ports, secret });
  const s = (a: Address) => `{ password: { file: ${secret(a)} } }`;
  // example.org and two.example have no postmaster in mail: (adminaddr's then); one.example's is bob
  return `defaults:
  domain: example.org
  adminaddr: admin@example.org
  mail:
${parts.mail}
    domains:
      example.org: { users: { admin: ${s("admin@example.org")} } }
      one.example: { users: { bob: ${s("bob@one.example")} }, aliases: { postmaster: bob } }
      two.example: { users: { bob: ${s("bob@two.example")} } }
hosts:
  scan:
    platform: debian
    roles: [rspamd, opensmtpd]
    address: 127.0.0.1
    relay: { host: 127.0.0.3, port: ${sink.port} }
    rspamd: { listen: "127.0.0.1:${ports.rspamd}", disable: ${RSPAMD_OFFLINE} }
    opensmtpd: { store: store, listen: [127.0.0.1, ${V4}.1, "fd77:3::1"], port: ${ports.smtp}, maxMessageSize: 1M, smugglingRisk: accepted }
${parts.store}
  web1: { platform: debian, roles: [nullmailer], address: ${V4}.3, relay: { host: scan } }
  web6: { platform: debian, roles: [nullmailer], address: "fd77:3::3", relay: { host: scan } }
`;
}

interface RawResult {
  greeting?: string;
  /** The replies read after each step. */
  replies: string[][];
  closed: boolean;
  error?: string;
}
type Step = { send: string; replies?: number };

/** One SMTP connection from the outside network, to the scan host's address of that family (from `source`, default the outsider's). */
async function smtp(family: 4 | 6, steps: Step[], source?: string): Promise<RawResult> {
  const host = family === 4 ? net.host.v4 : net.host.v6;
  const from = source ?? (family === 4 ? net.clients.v4[0]! : net.clients.v6[0]!);
  const r = await net.exec(process.execPath, [RAW, host, String(p.ports.smtp), from], { input: JSON.stringify(steps), timeoutMs: 120_000 });
  if (!r.stdout) throw new Error(`smtp-raw: exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as RawResult;
}
const fleetSource = (family: 4 | 6) => (family === 4 ? net.clients.v4[1]! : net.clients.v6[1]!);
const cmd = (line: string, replies = 1): Step => ({ send: `${line}\r\n`, replies });
/** EHLO, MAIL FROM, one RCPT TO each, DATA: one reply each. */
const envelope = (from: string, to: string[]): Step[] => [cmd("EHLO outside.example"), cmd(`MAIL FROM:<${from}>`), ...to.map((t) => cmd(`RCPT TO:<${t}>`)), cmd("DATA")];
/** The last line of each reply, from the MAIL FROM on (the greeting and EHLO left out). */
const codes = (r: RawResult) => r.replies.slice(1).map((x) => x.map((l) => l.split("\r\n").pop()!));

let serial = 0;
const messageId = (what: string) => `<exposed-${what}-${Date.now()}-${++serial}@outside.example>`;
/** Until the queue is empty (nothing accepted is still on its way), then how often each address has the message. */
async function stored(id: string, addresses: Address[] = ["bob@one.example", "bob@two.example", "admin@example.org"]) {
  await waitFor("an empty queue", () => p.queueEmpty(), 60_000);
  return Object.fromEntries(addresses.map((a) => [a, p.count(a, id)]));
}
/** smtpd still runs and a new connection is greeted. */
async function stillUp() {
  expect(p.smtpd.exited(), p.smtpd.log().slice(-2000)).toBeUndefined();
  const r = await smtp(4, [cmd("QUIT")]);
  expect(r.greeting).toMatch(/^220 scan\.example\.org ESMTP OpenSMTPD$/);
}

beforeAll(async () => {
  net = await outsideNetwork({ v4: V4, v6: V6, clients: 2 });
  try {
    sink = await startSmtpSink({ address: "127.0.0.3" });
    p = await startScanPipeline({ prefix: "mf-exposed-", passwords: PASSWORDS, inventory });
  } catch (e) {
    await sink?.stop();
    await net.close();
    throw e;
  }
}, 300_000);

afterAll(async () => {
  const errors: unknown[] = [];
  for (const stop of [() => p?.close(), () => sink?.stop(), () => net?.close()]) {
    try {
      await stop();
    } catch (e) {
      errors.push(e);
    }
  }
  console.info(`scan-exposed figures: ${JSON.stringify(figures)}`);
  if (errors.length) throw errors[0];
}, 120_000);

describe("the guard filter on its own, under the awks of the platforms", () => {
  // Debian's mawk (with -W interactive, as the role runs it), the one true awk (FreeBSD's; Debian's original-awk), busybox's
  const awks: [string, string[]][] = [
    ["mawk -W interactive", ["mawk", "-W", "interactive"]],
    ["original-awk", ["original-awk"]],
    ["busybox awk", ["busybox", "awk"]],
  ];
  const guardFile = (() => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mf-guard-"));
    return { dir, file: path.join(dir, "guard.awk") };
  })();
  afterAll(() => rmSync(guardFile.dir, { recursive: true, force: true }));

  /** Runs the guard, writes each request only after the answer to the one before (as smtpd does), returns the answers. */
  async function converse(argv: string[], requests: { line: string; answers: number }[]): Promise<string[]> {
    writeFileSync(guardFile.file, templates.render("guard.awk", {}));
    const child = execFile(argv[0]!, [...argv.slice(1), "-v", `size_max=${MAX}`, "-v", "scan=1", "-v", "line_max=16", "-f", guardFile.file], { timeout: 30_000 });
    let buf = "";
    child.stdout!.setEncoding("latin1");
    child.stdout!.on("data", (d: string) => (buf += d));
    const out: string[] = [];
    const take = async (n: number) => {
      await waitFor(`${n} answers from ${argv.join(" ")}`, () => buf.split("\n").length - 1 >= n, 10_000);
      const lines = buf.split("\n");
      out.push(...lines.slice(0, n));
      buf = lines.slice(n).join("\n");
    };
    try {
      child.stdin!.write("config|smtpd-version|6.8.0p2\nconfig|protocol|0.6\nconfig|subsystem|smtp-in\nconfig|ready\n");
      await take(6);
      for (const r of requests) {
        child.stdin!.write(Buffer.from(`${r.line}\n`, "latin1"));
        if (r.answers) await take(r.answers);
      }
    } finally {
      child.stdin!.end();
      child.kill();
    }
    return out;
  }

  for (const [name, argv] of awks) {
    it(`${name}: registers, answers each request at once, refuses SIZE= above the limit, makes ".\\r" safe, refuses long lines at commit`, async () => {
      const id = "2e6fa9c598a1c6dc";
      const f = (phase: string, param: string) => `filter|0.6|1700000000.000001|smtp-in|${phase}|${id}|00000000000000a1|${param}`;
      const r = (event: string, param: string) => `report|0.6|1700000000.000001|smtp-in|${event}|${id}|${param}`;
      const answers = await converse(argv, [
        { line: r("protocol-client", `MAIL FROM:<a@x.example> SIZE=${MAX + 1}`), answers: 0 },
        { line: f("mail-from", "a@x.example"), answers: 1 },
        { line: r("protocol-client", `mail from:<a@x.example> body=8bitmime size=${MAX}`), answers: 0 },
        { line: f("mail-from", "a@x.example"), answers: 1 },
        { line: r("protocol-client", "MAIL FROM:<> SIZE=99999999999999999999"), answers: 0 },
        { line: f("mail-from", ""), answers: 1 },
        { line: f("data-line", "Subject: a|b\r"), answers: 1 },
        { line: f("data-line", ".\r"), answers: 1 },
        { line: f("data-line", ".\r\r"), answers: 1 },
        { line: f("data-line", "..x"), answers: 1 },
        { line: f("data-line", "\r"), answers: 1 },
        { line: f("data-line", "."), answers: 1 },
        { line: f("commit", "."), answers: 1 },
        { line: f("data-line", "0123456789abcdefXYZ"), answers: 1 },
        { line: f("data-line", "."), answers: 1 },
        { line: f("commit", "."), answers: 1 },
      ]);
      const res = (x: string) => `filter-result|${id}|00000000000000a1|${x}`;
      const line = (x: string) => `filter-dataline|${id}|00000000000000a1|${x}`;
      expect(answers).toEqual([
        "register|report|smtp-in|protocol-client",
        "register|report|smtp-in|link-disconnect",
        "register|filter|smtp-in|mail-from",
        "register|filter|smtp-in|data-line",
        "register|filter|smtp-in|commit",
        "register|ready",
        res("reject|552 5.3.4 Message size exceeds fixed maximum message size"),
        res("proceed"),
        res("reject|552 5.3.4 Message size exceeds fixed maximum message size"),
        line("Subject: a|b"),
        line(".."),
        line(".."),
        line("..x"),
        line(""),
        line("."),
        res("proceed"),
        line("0123456789abcdef"),
        line("."),
        res("reject|550 5.6.0 Message has a line longer than 16 characters, refused rather than cut (RFC 5322 2.1.1: 998 at most)"),
      ]);
    });
  }
});

describe("a scan host facing the outside", () => {
  it("wrote the chain guard, fleet-senders, served-senders, rspamd on every listener, which smtpd -n accepts", async () => {
    const conf = (await p.smtpd.exec("cat", ["/etc/smtpd.conf"])).stdout;
    expect(conf).toMatch(/^filter "intake" chain \{ "guard", "fleet-senders", "served-senders", "rspamd" \}$/m);
    for (const a of ["127.0.0.1", `${V4}.1`, "fd77:3::1"]) expect(conf).toMatch(new RegExp(`^listen on ${a.replace(/\./g, "\\.")} port ${p.ports.smtp} hostname scan\\.example\\.org filter "intake"$`, "m"));
    expect(conf).toMatch(new RegExp(`^filter "guard" proc-exec "/usr/bin/mawk -W interactive -v size_max=${MAX} -v scan=1 -v line_max=${LINE_MAX} -f /etc/smtpd/guard\\.awk"$`, "m"));
    expect(conf).toMatch(new RegExp(`^smtp max-message-size ${MAX}$`, "m"));
    expect((await p.smtpd.check()).code).toBe(0);
    expect(p.firstApply).toEqual(expect.arrayContaining(["opensmtpd:guard.awk", "opensmtpd:served-senders", "opensmtpd:restart-drop-in"]));
  });

  describe("SMTP smuggling: a second message behind a bare-LF dot (CVE-2023-51764)", () => {
    const smuggled = (n: string, from = "ceo@one.example") => `MAIL FROM:<${from}>\r\nRCPT TO:<bob@two.example>\r\nDATA\r\nMessage-Id: ${n}\r\n\r\nspoofed\r\n.\r\n`;
    for (const [name, dot] of [
      ["\\n.\\n", "\n.\n"],
      ["\\n.\\r\\n", "\n.\r\n"],
      ["\\r\\n.\\n", "\r\n.\n"],
    ] as const) {
      it(`${name} with the smuggled commands in the same write: 500 (smtpd refuses pipelining), neither message stored`, async () => {
        const first = messageId("carrier");
        const second = messageId("smuggled");
        // the last step sends nothing and waits for a reply: there is none, smtpd closes the connection
        const r = await smtp(4, [...envelope("alice@outside.example", ["bob@one.example"]), { send: `Message-Id: ${first}\r\nSubject: smuggle\r\n\r\nhello${dot}${smuggled(second)}`, replies: 1 }, { send: "", replies: 1 }]);
        expect(codes(r)).toEqual([["250 2.0.0 Ok"], ["250 2.1.5 Destination address valid: Recipient ok"], ['354 Enter mail, end with "." on a line by itself'], ["500 5.5.1 Invalid command: Pipelining not supported"], []]);
        expect(r.closed).toBe(true);
        expect(await stored(first)).toEqual({ "bob@one.example": 0, "bob@two.example": 0, "admin@example.org": 0 });
        expect(await stored(second)).toEqual({ "bob@one.example": 0, "bob@two.example": 0, "admin@example.org": 0 });
      });
    }

    it("\\r.\\r\\n is no end of DATA: one message, the would-be commands its body, stored once", async () => {
      const first = messageId("carrier");
      const second = messageId("smuggled");
      const r = await smtp(4, [...envelope("alice@outside.example", ["bob@one.example"]), { send: `Message-Id: ${first}\r\nSubject: smuggle\r\n\r\nhello\r.\r\n${smuggled(second)}`, replies: 1 }, cmd("QUIT")]);
      expect(codes(r).slice(3)).toEqual([[expect.stringMatching(/^250 2\.0\.0 [0-9a-f]{8} Message accepted for delivery$/)], ["221 2.0.0 Bye"]]);
      await waitFor("the message at bob@one.example", () => p.count("bob@one.example", first) > 0, 60_000);
      expect(await stored(first)).toEqual({ "bob@one.example": 1, "bob@two.example": 0, "admin@example.org": 0 });
      expect(readMessage("bob@one.example", first)).toContain("\nMAIL FROM:<ceo@one.example>\nRCPT TO:<bob@two.example>\nDATA\n");
      expect(await stored(second)).toEqual({ "bob@one.example": 0, "bob@two.example": 0, "admin@example.org": 0 });
    });

    it("with the commands arriving one by one after \\n.\\n: the dot ends DATA (250); a served domain as the smuggled sender is refused (550 5.7.1), any other is stored, which is why listening beyond loopback needs opensmtpd.smugglingRisk", async () => {
      const results: Record<string, unknown> = {};
      for (const from of ["ceo@one.example", "someone@partner.example"]) {
        const first = messageId("carrier");
        const second = messageId("smuggled");
        const r = await smtp(4, [
          ...envelope("alice@outside.example", ["bob@one.example"]),
          { send: `Message-Id: ${first}\r\nSubject: smuggle\r\n\r\nhello\n.\n`, replies: 1 },
          cmd(`MAIL FROM:<${from}>`),
          ...(from === "ceo@one.example" ? [] : [cmd("RCPT TO:<bob@two.example>"), cmd("DATA"), { send: `Message-Id: ${second}\r\n\r\nspoofed\r\n.\r\n`, replies: 1 }]),
          cmd("QUIT"),
        ]);
        results[from] = codes(r).slice(3);
        await waitFor("the carrier at bob@one.example", () => p.count("bob@one.example", first) > 0, 60_000);
        expect(await stored(first)).toEqual({ "bob@one.example": 1, "bob@two.example": 0, "admin@example.org": 0 });
        if (from !== "ceo@one.example") await waitFor("the smuggled message", () => p.count("bob@two.example", second) > 0, 60_000);
        expect((await stored(second))["bob@two.example"]).toBe(from === "ceo@one.example" ? 0 : 1);
      }
      const ok = expect.stringMatching(/^250 2\.0\.0 [0-9a-f]{8} Message accepted for delivery$/);
      expect(results).toEqual({
        "ceo@one.example": [[ok], ["550 5.7.1 Sender address of a domain served here, from outside its network"], ["221 2.0.0 Bye"]],
        "someone@partner.example": [[ok], ["250 2.0.0 Ok"], ["250 2.1.5 Destination address valid: Recipient ok"], ['354 Enter mail, end with "." on a line by itself'], [ok], ["221 2.0.0 Bye"]],
      });
    });
  });

  describe("what an outsider sends does not stop intake, and nothing is stored twice", () => {
    const accepted = expect.stringMatching(/^250 2\.0\.0 [0-9a-f]{8} Message accepted for delivery$/);
    const tooLong = `550 5.6.0 Message has a line longer than ${LINE_MAX} characters, refused rather than cut (RFC 5322 2.1.1: 998 at most)`;
    const cases: { name: string; body: (id: string) => string; reply: unknown; stored: number; line?: string }[] = [
      { name: "the finding: \\r\\n.\\r\\r\\n in the body", body: (id) => `Message-Id: ${id}\r\nSubject: t\r\n\r\nline one\r\n.\r\r\nline after\r\n.\r\n`, reply: accepted, stored: 1, line: "line one\n.\nline after\n" },
      { name: "\\r.\\r\\r\\n", body: (id) => `Message-Id: ${id}\r\nSubject: t\r\n\r\nline one\r\n\r.\r\r\nline after\r\n.\r\n`, reply: accepted, stored: 1, line: "line one\n\r.\nline after\n" },
      { name: ".\\r\\r\\n as the last line before the end", body: (id) => `Message-Id: ${id}\r\nSubject: t\r\n\r\nline one\r\n.\r\r\n.\r\n`, reply: accepted, stored: 1, line: "line one\n.\n" },
      { name: "a line of a lone CR", body: (id) => `Message-Id: ${id}\r\nSubject: t\r\n\r\nline one\r\n\r\r\nline after\r\n.\r\n`, reply: accepted, stored: 1, line: "line one\n\nline after\n" },
      { name: "bare-LF dots inside the body", body: (id) => `Message-Id: ${id}\r\nSubject: t\r\n\r\nline one\n.\nline after\r\n.\r\n`, reply: "500 5.5.1 Invalid command: Pipelining not supported", stored: 0 },
      { name: `a line of ${LINE_MAX} characters`, body: (id) => `Message-Id: ${id}\r\nSubject: t\r\n\r\n${"y".repeat(LINE_MAX)}\r\n.\r\n`, reply: accepted, stored: 1, line: `\n${"y".repeat(LINE_MAX)}\n` },
      { name: `a line of ${LINE_MAX + 1} characters`, body: (id) => `Message-Id: ${id}\r\nSubject: t\r\n\r\n${"y".repeat(LINE_MAX + 1)}\r\n.\r\n`, reply: tooLong, stored: 0 },
      { name: "a line of 65,500 characters (filter-rspamd's reader stops at 64 KiB)", body: (id) => `Message-Id: ${id}\r\nSubject: t\r\n\r\n${"x".repeat(65_500)}\r\n.\r\n`, reply: tooLong, stored: 0 },
    ];
    for (const c of cases) {
      it(`${c.name}: ${typeof c.reply === "string" ? c.reply.slice(0, 3) : "250"}, stored ${c.stored === 1 ? "once" : "nowhere"}, smtpd still greets`, async () => {
        const id = messageId("intake");
        const r = await smtp(4, [...envelope("alice@outside.example", ["bob@one.example"]), { send: c.body(id), replies: 1 }]);
        expect(codes(r)[3], JSON.stringify(r)).toEqual([c.reply]);
        if (c.stored) await waitFor("the message", () => p.count("bob@one.example", id) > 0, 60_000);
        expect((await stored(id))["bob@one.example"]).toBe(c.stored);
        if (c.line) expect(readMessage("bob@one.example", id)).toContain(c.line);
        await stillUp();
      });
    }

    it("the finding's payload 5 times over, each on a new connection: 5 times 250, each message stored exactly once, smtpd up throughout", async () => {
      const ids = Array.from({ length: 5 }, () => messageId("again"));
      for (const id of ids) {
        const r = await smtp(4, [...envelope("alice@outside.example", ["bob@one.example"]), { send: `Message-Id: ${id}\r\nSubject: t\r\n\r\nline one\r\n.\r\r\nline after\r\n.\r\n`, replies: 1 }, cmd("QUIT")]);
        expect(codes(r).slice(3)).toEqual([[accepted], ["221 2.0.0 Bye"]]);
        await stillUp();
      }
      await waitFor("5 messages", () => ids.every((id) => p.count("bob@one.example", id) > 0), 60_000);
      await waitFor("an empty queue", () => p.queueEmpty(), 60_000);
      expect(ids.map((id) => p.count("bob@one.example", id))).toEqual([1, 1, 1, 1, 1]);
    });
  });

  describe("SIZE (RFC 1870)", () => {
    it(`EHLO advertises SIZE ${MAX}; SIZE= above it is 552 at MAIL FROM, SIZE= at it 250; an undeclared larger body is refused after it arrived (554), nothing stored`, async () => {
      const ehlo = await smtp(4, [cmd("EHLO outside.example"), cmd(`MAIL FROM:<alice@outside.example> SIZE=${MAX + 1}`), cmd("RSET"), cmd(`MAIL FROM:<alice@outside.example> SIZE=${MAX}`), cmd("RSET"), cmd("MAIL FROM:<alice@outside.example> BODY=8BITMIME SIZE=99999999999999999999"), cmd("QUIT")]);
      expect(ehlo.replies[0]![0]).toMatch(new RegExp(`^250-SIZE ${MAX}$`, "m"));
      expect(codes(ehlo)).toEqual([["552 5.3.4 Message size exceeds fixed maximum message size"], ["250 2.0.0 Reset state"], ["250 2.0.0 Ok"], ["250 2.0.0 Reset state"], ["552 5.3.4 Message size exceeds fixed maximum message size"], ["221 2.0.0 Bye"]]);
      const id = messageId("big");
      const big = await smtp(4, [...envelope("alice@outside.example", ["bob@one.example"]), { send: `Message-Id: ${id}\r\nSubject: big\r\n\r\n${`${"z".repeat(998)}\r\n`.repeat(Math.ceil(MAX / 1000) + 10)}.\r\n`, replies: 1 }, cmd("QUIT")]);
      figures.undeclaredTooBig = codes(big)[3];
      expect(codes(big).slice(3)).toEqual([["554 5.3.4 Message too big for system: Transaction failed, message too big"], ["221 2.0.0 Bye"]]);
      expect((await stored(id))["bob@one.example"]).toBe(0);
      await stillUp();
    });
  });

  for (const family of [4, 6] as const) {
    describe(`over IPv${family}`, () => {
      it("an outsider giving a served domain in MAIL FROM: 550 5.7.1 at MAIL FROM, in any case; the null sender is accepted and its message stored", async () => {
        const r = await smtp(family, [cmd("EHLO outside.example"), cmd("MAIL FROM:<ceo@one.example>"), cmd("MAIL FROM:<CEO@Two.Example>"), cmd("MAIL FROM:<admin@example.org>"), cmd("QUIT")]);
        const refused = "550 5.7.1 Sender address of a domain served here, from outside its network";
        expect(codes(r)).toEqual([[refused], [refused], [refused], ["221 2.0.0 Bye"]]);
        expect(await p.smtpd.queue()).toEqual([]);
        const id = messageId("bounce");
        const bounce = await smtp(family, [...envelope("", ["bob@two.example"]), { send: `Message-Id: ${id}\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\nbounce\r\n.\r\n`, replies: 1 }, cmd("QUIT")]);
        expect(codes(bounce)).toEqual([["250 2.0.0 Ok"], ["250 2.1.5 Destination address valid: Recipient ok"], ['354 Enter mail, end with "." on a line by itself'], [expect.stringMatching(/^250 2\.0\.0 /)], ["221 2.0.0 Bye"]]);
        await waitFor("the bounce at bob@two.example", () => p.count("bob@two.example", id) > 0, 60_000);
        expect(await stored(id)).toEqual({ "bob@one.example": 0, "bob@two.example": 1, "admin@example.org": 0 });
      });

      it("the fleet's host sends as a served domain (250, stored once) and relays out (at the relay once); the outsider's relay attempt is refused at RCPT (550), nothing relayed", async () => {
        const id = messageId("fleet");
        const r = await smtp(family, [...envelope("ceo@one.example", ["bob@two.example"]), { send: `Message-Id: ${id}\r\nSubject: from the fleet\r\n\r\nhi\r\n.\r\n`, replies: 1 }, cmd("QUIT")], fleetSource(family));
        expect(codes(r)).toEqual([["250 2.0.0 Ok"], ["250 2.1.5 Destination address valid: Recipient ok"], ['354 Enter mail, end with "." on a line by itself'], [expect.stringMatching(/^250 2\.0\.0 /)], ["221 2.0.0 Bye"]]);
        await waitFor("the fleet's message", () => p.count("bob@two.example", id) > 0, 60_000);
        expect(await stored(id)).toEqual({ "bob@one.example": 0, "bob@two.example": 1, "admin@example.org": 0 });

        const sinkBefore = sink.messages().length;
        const out = messageId("relay");
        const denied = await smtp(family, [cmd("EHLO outside.example"), cmd("MAIL FROM:<alice@outside.example>"), cmd("RCPT TO:<someone@elsewhere.test>"), cmd("QUIT")]);
        expect(codes(denied)).toEqual([["250 2.0.0 Ok"], ["550 Invalid recipient: <someone@elsewhere.test>"], ["221 2.0.0 Bye"]]);
        const relayed = await smtp(family, [...envelope("ceo@one.example", ["someone@elsewhere.test"]), { send: `Message-Id: ${out}\r\nSubject: out\r\n\r\nhi\r\n.\r\n`, replies: 1 }, cmd("QUIT")], fleetSource(family));
        expect(codes(relayed)[3]).toEqual([expect.stringMatching(/^250 2\.0\.0 /)]);
        await waitFor("the fleet's message at the relay", () => sink.messages().some((m) => m.includes(out)), 60_000);
        await waitFor("an empty queue", () => p.queueEmpty(), 60_000);
        expect(sink.messages().length - sinkBefore).toBe(1);
        expect(sink.messages().filter((m) => m.includes(out))).toHaveLength(1);
      });

      it("postmaster of every served domain, in any case, and of the host itself (also bare <postmaster>): accepted, each stored once in the mailbox it names or adminaddr's", async () => {
        // one.example's postmaster is bob (mail:); the others are adminaddr's (roles/lib/mail/required.ts)
        const cases: [string, Address][] = [
          ["postmaster@one.example", "bob@one.example"],
          ["PostMaster@TWO.example", "admin@example.org"],
          ["postmaster@example.org", "admin@example.org"],
          ["postmaster", "admin@example.org"],
          ["postmaster@scan.example.org", "admin@example.org"],
        ];
        for (const [to, mailbox] of cases) {
          const id = messageId("postmaster");
          const r = await smtp(family, [...envelope("alice@outside.example", [to]), { send: `Message-Id: ${id}\r\nSubject: to ${to}\r\n\r\nhi\r\n.\r\n`, replies: 1 }, cmd("QUIT")]);
          expect([to, codes(r)]).toEqual([to, [["250 2.0.0 Ok"], ["250 2.1.5 Destination address valid: Recipient ok"], ['354 Enter mail, end with "." on a line by itself'], [expect.stringMatching(/^250 2\.0\.0 /)], ["221 2.0.0 Bye"]]]);
          await waitFor(`${to}'s message`, () => p.count(mailbox, id) > 0, 60_000);
          const want = { "bob@one.example": 0, "bob@two.example": 0, "admin@example.org": 0, [mailbox]: 1 };
          expect([to, await stored(id)]).toEqual([to, want]);
        }
      });
    });
  }

  it("without the guard, the finding's payload stops smtpd (exit status 0 or 1, whichever process fails first) and a 65,500-character line does too (exit status 0: hence Restart=always)", async () => {
    // what the role wrote, less the guard in the chain: the configuration the findings were measured on
    const conf = (await p.smtpd.exec("cat", ["/etc/smtpd.conf"])).stdout;
    const unguarded = conf.replace('chain { "guard", ', "chain { ");
    expect(unguarded).not.toBe(conf);
    const write = (text: string) => p.smtpd.exec("sh", ["-c", "cat > /etc/smtpd.conf"], { input: text });
    const crashes: Record<string, unknown> = {};
    try {
      await write(unguarded);
      await p.smtpd.restart();
      for (const [what, body] of [
        ["the finding", "Subject: t\r\n\r\nline one\r\n.\r\r\nline after\r\n.\r\n"],
        ["65,500 characters", `Subject: t\r\n\r\n${"x".repeat(65_500)}\r\n.\r\n`],
      ] as const) {
        const before = p.smtpd.log().length;
        // the crash is a race between smtpd and the filter: a loaded machine may need the payload again (10 tries at
        // most; smtpd exits within a second of the payload when it does)
        for (let attempt = 1; p.smtpd.exited() === undefined; attempt++) {
          await smtp(4, [...envelope("alice@outside.example", ["bob@one.example"]), { send: body, replies: 1 }]);
          try {
            await waitFor("smtpd to exit", () => p.smtpd.exited() !== undefined, 10_000);
          } catch (e) {
            if (attempt >= 10) throw e;
          }
        }
        const log = p.smtpd.log().slice(before);
        crashes[what] = { exited: p.smtpd.exited(), log: log.split("\n").filter((l) => /fatal|lost processor|out of dataline|tree_xset|Exiting/.test(l)) };
        const refused = await smtp(4, [cmd("QUIT")]);
        expect(refused.greeting).toBeUndefined();
        // stop() also waits for whatever smtpd left running
        await p.smtpd.restart();
      }
    } finally {
      await write(conf);
      await p.smtpd.restart();
    }
    figures.unguarded = crashes;
    expect(crashes["the finding"]).toMatchObject({ exited: { code: expect.toBeOneOf([0, 1]), signal: null }, log: expect.arrayContaining([expect.stringMatching(/filter-dataline out of dataline phase|tree_xset/)]) });
    expect(crashes["65,500 characters"]).toMatchObject({ exited: { code: 0, signal: null }, log: expect.arrayContaining(["warn: lost processor: rspamd exited abnormally", "Exiting"]) });
    await stillUp();
  }, 400_000);
});

/** The stored text of the message with this Message-ID. */
function readMessage(a: Address, id: string): string {
  const m = maildirMessages(p.maildir(a)).find((x) => x.messageId === id);
  if (!m) throw new Error(`${id} is not in ${a}'s Maildir`);
  return m.raw;
}
