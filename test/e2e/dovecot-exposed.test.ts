// Dovecot as the dovecot role configures it, facing clients that are not on
// this machine: the real Dovecot 2.3.19 (test/support/dovecot.ts) listens on
// this machine's end of a veth pair (test/support/netns.ts), and every client
// but one runs inside the outside network namespace, from 11 IPv4 addresses
// and 11 IPv6 addresses of one /64. The one that does not is this machine
// connecting to that same address, so that the connection's source address
// is its destination address (which Dovecot 2.3 counts as secured).
//
// What it shows, with the exact replies:
// - logins only over TLS: a plaintext LOGIN / USER+PASS without STARTTLS is
//   refused from the outsider and from the server's own address; after
//   STARTTLS it is accepted;
// - TLS below 1.2, and anonymous, 3DES, static-RSA and CBC suites are refused
//   on 143 (STARTTLS), 993, 110 (STARTTLS) and 995, by a client that offers
//   them (SECLEVEL=0); TLS 1.2 with ECDHE-RSA-AES128-GCM-SHA256 and TLS 1.3
//   succeed;
// - the login limits (auth-limits.lua): wrong passwords from 10 addresses
//   give the account a bounded number of checked guesses, every other
//   attempt (the right password included) a temporary failure; the real
//   user gets in from a client that logged in before at once, and from a new
//   one after the interval; an IPv6 /64 is one client;
// - the same bounds on SMTP AUTH at the hub's submission port: a Postfix
//   instance configured by postfix-hub on the same host asks Dovecot's auth
//   socket (Postfix 3.7 answers Dovecot's temporary failure with the 535 of a
//   wrong password; only a lost auth connection gets 454 4.7.0).
//
// What the test sets that a real host would not, all through the roles' data
// or the inventory: the test hub's (test/support/hub.ts, as in
// hub-delivery.test.ts): Dovecot's paths are in a temp dir and its users are
// the one unprivileged user it runs as here, Postfix's paths point at an
// instance whose services are not chrooted, and Dovecot's sockets for it lie
// in a directory the unprivileged Dovecot can create them in; Dovecot's listeners are moved to the veth's addresses
// on free ports by the test overrides, Postfix's are on free ports of the
// veth's address (hub.port, hub.submission.port); the bounds are small (3 per
// client, 5 per account) so that the test needs few attempts, each of which
// Dovecot delays by 2 s or more.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planHost } from "../../src/engine/host.ts";
import type { HostConfig } from "../../src/engine/inventory.ts";
import { doveconfN, type Dovecot } from "../support/dovecot.ts";
import { testHub, type TestHub } from "../support/hub.ts";
import { hubHost, mailDomains, saveInventory } from "../support/inventory.ts";
import { waitFor } from "../support/wait.ts";
import { outsideNetwork, type OutsideNetwork } from "../support/netns.ts";
import { freePort } from "../support/postfix.ts";

const PASSWORDS = {
  "bob@one.example": "bob one pass",
  "carol@two.example": "carol two pass",
  "admin@example.org": "admin pass",
  "dave@two.example": "dave two pass",
} as const;
type Account = keyof typeof PASSWORDS;
/** The bounds of this test's inventory (the defaults are 10, 10, 3600 s, 300 s). */
const LIMITS = { window: 900, clientFailures: 3, accountFailures: 5, newClientInterval: 60 };

const work = mkdtempSync(path.join(os.tmpdir(), "mf-exposed-"));
chmodSync(work, 0o755);
const inventory = path.join(work, "inventory.yaml");
const timings: Record<string, number> = {};
/** One reply of each kind, as the daemons gave them (printed after the run). */
const samples: Record<string, string> = {};

let net: OutsideNetwork;
/** Postfix and Dovecot as the roles configure them (test/support/hub.ts), Dovecot listening on the outside network's host end. */
let th: TestHub | undefined;
let dovecot: Dovecot | undefined;
let submissionPort: number;
let hosts: HostConfig[];

function writeInventory(dovecotExtra: Record<string, unknown> = {}) {
  const f = th!.fragments;
  hosts = saveInventory(inventory, {
    defaults: { domain: "example.org", adminaddr: "admin@example.org" },
    hosts: {
      store: hubHost({
        address: net.host.v4,
        hub: { port: th!.port, interfaces: [net.host.v4], tls: f.tls, submission: { port: submissionPort }, mainCf: f.instance },
        dovecot: { tls: f.tls, authLimits: LIMITS, ...dovecotExtra },
        mail: {
          owner: f.owner,
          base: f.base,
          domains: mailDomains(path.join(work, "secrets"), {
            "example.org": { users: ["admin"], aliases: { postmaster: "admin" } },
            "one.example": { users: ["bob"] },
            "two.example": { users: ["carol", "dave"] },
          }),
        },
      }),
    },
  });
}

/** The store host's two roles here (packages left out: both daemons are unpacked; Dovecot's service until the test has started it). */
const storeTarget = () => th!.target(hosts.find((x) => x.name === "store")!, hosts);

async function apply() {
  return (await th!.apply(storeTarget())).plan;
}

// A line-level IMAP / POP3 client (Debian's python3): the greeting, then one
// reply per step (IMAP: the lines up to the tagged one; POP3: one line);
// "STARTTLS" / "STLS" steps upgrade the connection after their reply.
// Certificates are not verified. The request comes as JSON on stdin.
const DIALOGUE = String.raw`
import json, socket, ssl, sys
req = json.load(sys.stdin)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
src = (req["source"], 0) if req.get("source") else None
fam = socket.AF_INET6 if ":" in req["host"] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.settimeout(60)
if src: s.bind(src)
s.connect((req["host"], req["port"]))
if req.get("implicit"): s = ctx.wrap_socket(s)
f = s.makefile("rb")
def line():
    l = f.readline()
    if not l: raise SystemExit("connection closed")
    return l.decode("utf-8", "replace").rstrip("\r\n")
def reply(tag, multi):
    out = []
    while True:
        l = line()
        out.append(l)
        if tag is not None and l.startswith(tag + " "): return out
        if tag is None and not (multi and out[0].startswith("+OK") and l != "."): return out
replies = [[line()]]
for step in req["steps"]:
    s.sendall((step + "\r\n").encode("utf-8"))
    tag = step.split(" ")[0] if req["protocol"] == "imap" else None
    replies.append(reply(tag, step.split(" ")[0].upper() in ("CAPA", "LIST", "UIDL", "TOP", "RETR")))
    word = step.split(" ")[-1 if req["protocol"] == "imap" else 0].upper()
    if word in ("STARTTLS", "STLS") and (replies[-1][-1].split(" ")[1:2] == ["OK"] or replies[-1][-1].startswith("+OK")):
        s = ctx.wrap_socket(s)
        f = s.makefile("rb")
print(json.dumps(replies))
`;

interface DialogueOptions {
  protocol: "imap" | "pop3";
  /** Run inside the outside namespace (default), or here, from `source`. */
  here?: boolean;
  source?: string;
  host?: string;
  port: number;
  implicit?: boolean;
  steps: string[];
}

/** Each reply (its lines) of one conversation: the greeting first, then one per step. */
async function dialogue(o: DialogueOptions): Promise<string[][]> {
  const input = JSON.stringify({ protocol: o.protocol, host: o.host ?? net.host.v4, port: o.port, source: o.source, implicit: o.implicit, steps: o.steps });
  const r = o.here
    ? await execa("/usr/bin/python3", ["-c", DIALOGUE], { input, reject: false, timeout: 120_000 })
    : await net.exec("/usr/bin/python3", ["-c", DIALOGUE], { input, timeoutMs: 120_000 });
  const code = "exitCode" in r ? r.exitCode : r.code;
  if (code !== 0) throw new Error(`${o.protocol} dialogue failed: ${String(r.stderr)}`);
  return JSON.parse(String(r.stdout)) as string[][];
}

/** The last line of the reply to the last step. */
const last = (replies: string[][]) => replies[replies.length - 1]!.at(-1)!;

/** One login over STARTTLS (IMAP LOGIN or POP3 USER+PASS) from `source`; its final reply line. */
async function login(protocol: "imap" | "pop3", source: string, user: string, password: string): Promise<string> {
  const host = source.includes(":") ? net.host.v6 : net.host.v4;
  const steps = protocol === "imap" ? ["s STARTTLS", `a LOGIN "${user}" "${password}"`] : ["STLS", `USER ${user}`, `PASS ${password}`];
  const r = await dialogue({ protocol, host, source, port: dovecot!.port(protocol), steps });
  return last(r);
}

/** swaks from `source` inside the outside namespace to the hub's submission port: the server's replies (code and text). */
async function submission(source: string, args: string[]): Promise<string[]> {
  const r = await net.exec("swaks", ["--server", `${net.host.v4}:${submissionPort}`, "--local-interface", source, "--ehlo", "outside.test", ...args], { timeoutMs: 120_000 });
  return `${r.stdout}${r.stderr}`
    .split("\n")
    .filter((l) => /^<\S*\s+\d{3}/.test(l))
    .map((l) => l.replace(/^<\S*\s+/, ""));
}

/** SMTP AUTH PLAIN after STARTTLS at the submission port; the reply to AUTH. */
async function smtpAuth(source: string, user: string, password: string): Promise<string> {
  const replies = await submission(source, ["--tls", "--auth", "PLAIN", "--auth-user", user, "--auth-password", password, "--quit-after", "AUTH", "--from", user, "--to", user]);
  // swaks says QUIT after a refused AUTH: the reply before its 221
  return replies.filter((l) => !l.startsWith("221 ")).at(-1) ?? "";
}

const NO_AUTH = "a NO [AUTHENTICATIONFAILED] Authentication failed.";
const POP_NO_AUTH = "-ERR [AUTH] Authentication failed.";
// "[<hostname>:<time>]" follows: the session's place in the server's log
const TEMPFAIL = /^a NO \[UNAVAILABLE\] Temporary authentication failure\. \[[^\]:]+:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]$/;
const POP_TEMPFAIL = /^-ERR \[SYS\/TEMP\] Temporary authentication failure\. \[[^\]:]+:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]$/;
const LOGGED_IN = /^a OK \[CAPABILITY [^\]]*\] Logged in$/;

beforeAll(async () => {
  const t0 = Date.now();
  net = await outsideNetwork({ v4: "10.77.5", v6: "fd77:5:0:0", clients: 20 });
  mkdirSync(path.join(work, "secrets"));
  for (const [a, pw] of Object.entries(PASSWORDS)) writeFileSync(path.join(work, "secrets", a), `${pw}\n`, { mode: 0o600 });
  th = await testHub("exposed-hub", "store.example.org");
  submissionPort = await freePort();
  writeInventory();
  const plan = await apply();
  expect(plan.changes.map((c) => c.id)).toEqual(expect.arrayContaining(["postfix:master.cf", "postfix:service", "dovecot:dovecot.conf", "dovecot:auth-limits", "dovecot:passwd-file"]));
  dovecot = await th.startDovecot({ addresses: [net.host.v4, net.host.v6] });
  timings.setup = Date.now() - t0;
}, 180_000);

afterAll(async () => {
  const errors: unknown[] = [];
  for (const f of [() => th?.close(), () => net?.close()]) {
    try {
      await f();
    } catch (e) {
      errors.push(e);
    }
  }
  rmSync(work, { recursive: true, force: true });
  console.info(`dovecot-exposed timings (ms): ${JSON.stringify(timings)}\nreplies: ${JSON.stringify(samples, null, 1)}`);
  if (errors.length) throw errors[0];
}, 60_000);

describe("Dovecot as the dovecot role configures it, facing an outside network", () => {
  it("doveconf -n accepts the config with the Lua passdbs, as written and as run", async () => {
    const conf = readFileSync(th!.dovecotData.config, "utf8");
    expect(conf).toMatch(/^passdb \{\n  driver = lua\n  args = file=\S+\/auth-limits\.lua blocking=no\n  result_internalfail = return-fail\n\}$/m);
    const n = await doveconfN(th!.dovecotData.config);
    expect(n.stderr).toBe("");
    expect(n.code).toBe(0);
    const run = await dovecot!.checkConfig();
    expect([run.code, run.stderr]).toEqual([0, ""]);
    expect(dovecot!.log()).not.toMatch(/Error|Fatal/);
  });

  it("refuses a plaintext login without STARTTLS from the outsider and from the server's own address; after STARTTLS it is accepted", async () => {
    const user = "admin@example.org";
    const pw = PASSWORDS[user];
    const imapPlain = [`c CAPABILITY`, `a LOGIN "${user}" "${pw}"`];
    const popPlain = ["CAPA", `USER ${user}`, `PASS ${pw}`];

    // the outsider: Dovecot itself refuses before asking its passdbs
    const outImap = await dialogue({ protocol: "imap", port: dovecot!.port("imap"), steps: imapPlain });
    expect(outImap[1]!.join("\n")).toMatch(/LOGINDISABLED/);
    expect(outImap[2]).toEqual([
      "* BAD [ALERT] Plaintext authentication not allowed without SSL/TLS, but your client did it anyway. If anyone was listening, the password was exposed.",
      "a NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
    ]);
    const outPop = await dialogue({ protocol: "pop3", port: dovecot!.port("pop3"), steps: popPlain });
    expect(outPop[1]).not.toContain("USER");
    const popRefusal = "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.";
    expect(outPop.slice(2)).toEqual([[popRefusal], [popRefusal]]);

    // this machine to the address it connects to (source = destination): Dovecot counts the
    // connection as secured, offers LOGIN, and the passdb's allow_nets refuses the right password
    const self = { here: true, source: net.host.v4, host: net.host.v4 };
    const selfImap = await dialogue({ protocol: "imap", ...self, port: dovecot!.port("imap"), steps: imapPlain });
    expect(selfImap[1]!.join("\n")).not.toMatch(/LOGINDISABLED/);
    expect(selfImap[2]).toEqual([NO_AUTH]);
    const selfPop = await dialogue({ protocol: "pop3", ...self, port: dovecot!.port("pop3"), steps: popPlain });
    expect(selfPop[1]).toContain("USER");
    expect(selfPop.slice(2)).toEqual([["+OK"], [POP_NO_AUTH]]);
    expect(dovecot!.log()).toMatch(new RegExp(`allow_nets check failed: IP ${net.host.v4.replace(/\./g, "\\.")} not in allowed networks`));

    // after STARTTLS, from both
    const tlsImap = ["s STARTTLS", `a LOGIN "${user}" "${pw}"`];
    for (const o of [{}, self]) {
      const r = await dialogue({ protocol: "imap", ...o, port: dovecot!.port("imap"), steps: tlsImap });
      expect(r[1]).toEqual(["s OK Begin TLS negotiation now."]);
      expect(last(r)).toMatch(LOGGED_IN);
      const p = await dialogue({ protocol: "pop3", ...o, port: dovecot!.port("pop3"), steps: ["STLS", `USER ${user}`, `PASS ${pw}`] });
      expect(p.slice(1)).toEqual([["+OK Begin TLS negotiation now."], ["+OK"], ["+OK Logged in."]]);
    }
  }, 180_000);

  it("refuses TLS 1.0 and 1.1, anonymous, 3DES, static-RSA and CBC suites on 143, 993, 110 and 995; TLS 1.2 with ECDHE-RSA-AES128-GCM-SHA256 and TLS 1.3 succeed", async () => {
    const ports = [
      { name: "imap", args: ["-starttls", "imap"] },
      { name: "imaps", args: [] },
      { name: "pop3", args: ["-starttls", "pop3"] },
      { name: "pop3s", args: [] },
    ];
    const sClient = async (port: number, args: string[]) => {
      const r = await net.exec("openssl", ["s_client", "-connect", `${net.host.v4}:${port}`, "-no_ign_eof", ...args], { input: "", timeoutMs: 60_000 });
      // "New, TLSv1.2, Cipher is ..."; "New, (NONE), Cipher is (NONE)" when nothing was negotiated
      const m = /^New, (\S+), Cipher is (\S+)$/m.exec(r.stdout);
      return { code: r.code, negotiated: m && m[2] !== "(NONE)" ? `${m[1]} ${m[2]}` : "none", text: r.stdout + r.stderr };
    };
    // the client side: OpenSSL 3 at SECLEVEL=0 offers all of these (it has no RC4 or export suites at all)
    const refused = [
      ["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"],
      ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"],
      ["-tls1_2", "-cipher", "aNULL:@SECLEVEL=0"],
      ["-tls1_2", "-cipher", "DES-CBC3-SHA:ECDHE-RSA-DES-CBC3-SHA:@SECLEVEL=0"],
      ["-tls1_2", "-cipher", "kRSA:@SECLEVEL=0"],
      ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384:@SECLEVEL=0"],
    ];
    const results: Record<string, string> = {};
    for (const p of ports) {
      for (const args of refused) {
        const r = await sClient(dovecot!.port(p.name), [...p.args, ...args]);
        results[`${p.name} ${args.join(" ")}`] = r.negotiated;
        expect(r.code, r.text).not.toBe(0);
      }
      const good = await sClient(dovecot!.port(p.name), [...p.args, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0"]);
      expect(good.negotiated, good.text).toBe("TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256");
      const best = await sClient(dovecot!.port(p.name), [...p.args, "-tls1_3"]);
      expect(best.negotiated, best.text).toMatch(/^TLSv1\.3 TLS_/);
    }
    expect(Object.values(results).every((n) => n === "none")).toBe(true);
    // RC4 and export suites: the client cannot even offer them (nor could Dovecot's OpenSSL 3 pick them)
    const rc4 = await sClient(dovecot!.port("imaps"), ["-tls1_2", "-cipher", "RC4:EXP:@SECLEVEL=0"]);
    expect(rc4.code).not.toBe(0);
    expect(rc4.text).toMatch(/no cipher match/);
  }, 180_000);

  it("bounds guessing per client and per account: 10 attacking addresses get 6 checked guesses at bob, the rest a temporary failure; the real user gets in", async () => {
    const bob = "bob@one.example";
    const right = PASSWORDS[bob];
    const attackers = net.clients.v4.slice(0, 10);
    const real = net.clients.v4[10]!;
    const count = (replies: string[], what: RegExp | string) => replies.filter((r) => (typeof what === "string" ? r === what : what.test(r))).length;

    // the real user's own machine, before the attack: from then on a known client of bob
    expect(await login("imap", real, bob, right)).toMatch(LOGGED_IN);

    // one attacker, 3 wrong passwords (the client bound): checked and refused; then its 4th
    // attempt, with carol's right password, is not checked: the client is over its bound
    const t1 = Date.now();
    const first = [
      await login("imap", attackers[0]!, bob, "guess 1"),
      await login("imap", attackers[0]!, bob, "guess 2"),
      await login("pop3", attackers[0]!, bob, "guess 3"),
    ];
    expect(first).toEqual([NO_AUTH, NO_AUTH, POP_NO_AUTH]);
    expect(await login("imap", attackers[0]!, "carol@two.example", PASSWORDS["carol@two.example"])).toMatch(TEMPFAIL);
    timings.oneClientFourAttempts = Date.now() - t1;

    // the other 9 at once: bob has 3 failures of 5, so 2 more are checked, then the one attempt
    // per interval from a client new to bob; the other 6 get a temporary failure
    const t2 = Date.now();
    const second = await Promise.all(attackers.slice(1).map((a, i) => login("imap", a, bob, `guess ${4 + i}`)));
    expect([count(second, NO_AUTH), count(second, TEMPFAIL)]).toEqual([3, 6]);
    samples.imapTempfail = second.find((r) => TEMPFAIL.test(r))!;
    // again, each a wrong password over POP3, then bob's right password: none checked
    const third = (await Promise.all(attackers.slice(1).map(async (a, i) => [await login("pop3", a, bob, `guess ${20 + i}`), await login("imap", a, bob, right)]))).flat();
    const elapsed = Date.now() - t2;
    timings.nineClientsTwoRounds = elapsed;
    samples.pop3Tempfail = third.find((r) => POP_TEMPFAIL.test(r)) ?? "";
    if (elapsed < LIMITS.newClientInterval * 1000) {
      expect([count(third, POP_TEMPFAIL), count(third, TEMPFAIL)]).toEqual([9, 9]);
    } else {
      // a loaded machine took longer than the interval: one more checked attempt per interval at most
      expect(count(third, POP_NO_AUTH) + count(third, NO_AUTH)).toBeLessThanOrEqual(Math.floor(elapsed / (LIMITS.newClientInterval * 1000)));
      expect(third.filter((r) => LOGGED_IN.test(r))).toEqual([]);
    }
    // 30 attempts at bob from 10 addresses, 6 of them checked: accountFailures + 1
    const log = dovecot!.log();
    expect(log).toMatch(new RegExp(`auth-limits: ${attackers[0]!.replace(/\./g, "\\.")} failed 3 times in ${LIMITS.window} s: temporary failure, password not checked`));
    expect(log).toMatch(/auth-limits: bob@one\.example failed 5 times in 900 s, and a new client was let in less than 60 s ago/);
    expect(log).toMatch(/auth-limits: bob@one\.example failed 5 times in 900 s, 10\.77\.5\.\d+ among them/);

    // the real user, from the machine that logged in before: at once
    expect(await login("imap", real, bob, right)).toMatch(LOGGED_IN);
    expect(await login("pop3", real, bob, right)).toBe("+OK Logged in.");
    // from a client new to bob (an IPv6 address): one attempt per interval; here the last one
    // went to an attacker less than the interval ago, so it waits for the next
    const fresh = net.clients.v6[0]!;
    if (Date.now() - t2 < (LIMITS.newClientInterval - 5) * 1000) expect(await login("imap", fresh, bob, right)).toMatch(TEMPFAIL);
    const t3 = Date.now();
    await waitFor("the next interval", () => Date.now() > t2 + (LIMITS.newClientInterval + 3) * 1000, (LIMITS.newClientInterval + 10) * 1000);
    timings.waitedForInterval = Date.now() - t3;
    expect(await login("imap", fresh, bob, right)).toMatch(LOGGED_IN);
  }, 400_000);

  it("counts an IPv6 /64 as one client; another client is not affected, nor a known client of another account", async () => {
    const carol = "carol@two.example";
    const [, a, b, c, d, e] = net.clients.v6;
    // three addresses of one /64, one wrong password each: the /64 is at its bound of 3
    expect([await login("imap", a!, carol, "x1"), await login("imap", b!, carol, "x2"), await login("pop3", c!, carol, "x3")]).toEqual([NO_AUTH, NO_AUTH, POP_NO_AUTH]);
    // a fourth address of it, with carol's right password: not checked
    expect(await login("imap", d!, carol, PASSWORDS[carol])).toMatch(TEMPFAIL);
    expect(dovecot!.log()).toMatch(/auth-limits: fd77:5:0:0::\/64 failed 3 times in 900 s: temporary failure/);
    // carol from an IPv4 client: in
    expect(await login("imap", net.clients.v4[10]!, carol, PASSWORDS[carol])).toMatch(LOGGED_IN);
    // bob logged in from this /64 before (the test above): that pair is counted on its own, so the
    // /64's failures for carol do not keep bob out
    expect(await login("imap", e!, "bob@one.example", PASSWORDS["bob@one.example"])).toMatch(LOGGED_IN);
  }, 300_000);

  it("bounds SMTP AUTH at the hub's submission port the same way (Postfix asks Dovecot's auth socket): beyond the bound the right password is refused unchecked", async () => {
    const dave = "dave@two.example";
    const right = PASSWORDS[dave];
    // addresses unused so far; one attempt each, since from the 3rd failure of an address on,
    // Dovecot's own per-address penalty (8 s, then 15 s) plus its 2 s delay reaches Postfix's
    // fixed 10 s wait for an answer of Dovecot's auth (then 454 4.7.0 "Connection lost to
    // authentication server")
    const [known, ...fresh] = net.clients.v4.slice(11, 20);
    // no AUTH before STARTTLS (smtpd_tls_auth_only), so no password in the clear
    const plain = await submission(known!, ["--quit-after", "EHLO"]);
    expect(plain.filter((l) => /^250[- ]AUTH/.test(l))).toEqual([]);
    expect(plain).toContain("250-STARTTLS");
    const ok = "235 2.7.0 Authentication successful";
    expect(await smtpAuth(known!, dave, right)).toBe(ok);

    const t0 = Date.now();
    const failed = "535 5.7.8 Error: authentication failed: (reason unavailable)";
    // 5 (the account bound) from 5 addresses, then the one attempt of a new client: all checked
    const checked = await Promise.all(fresh.slice(0, LIMITS.accountFailures + 1).map((a, i) => smtpAuth(a, dave, `guess ${i}`)));
    expect(checked).toEqual(Array(LIMITS.accountFailures + 1).fill(failed));
    // the next new clients, with dave's right password: not checked, so not accepted. Postfix 3.7
    // answers Dovecot's temporary failure (FAIL code=temp_fail) like a wrong password: its
    // Dovecot client maps only a lost connection to 454 4.7.0
    const beyond = await Promise.all(fresh.slice(LIMITS.accountFailures + 1).map((a) => smtpAuth(a, dave, right)));
    timings.smtpAuth = Date.now() - t0;
    expect(beyond).toEqual([failed, failed]);
    samples.smtpBeyond = beyond[0]!;
    if (timings.smtpAuth < LIMITS.newClientInterval * 1000) {
      expect(dovecot!.log().match(/auth-limits: dave@two\.example failed 5 times in 900 s, and a new client was let in less than 60 s ago: temporary failure, password not checked/g)).toHaveLength(2);
    }
    // dave from the machine that logged in before: at once
    expect(await smtpAuth(known!, dave, right)).toBe(ok);
  }, 300_000);

  it("a re-apply changes nothing; dovecot.localPlaintext: true changes dovecot.conf, reloads, and lets the server's own address in without TLS, the outsider still not", async () => {
    expect((await planHost(storeTarget())).changes).toEqual([]);
    const user = "admin@example.org";
    const steps = [`a LOGIN "${user}" "${PASSWORDS[user]}"`];
    const self = { here: true, source: net.host.v4, host: net.host.v4 };
    writeInventory({ localPlaintext: true });
    try {
      const plan = await apply();
      expect(plan.changes.map((c) => `${c.id} ${c.action}`)).toEqual(["dovecot:dovecot.conf update", "dovecot:service reload"]);
      await waitFor("Dovecot's reload", () => /SIGHUP received - reloading configuration/.test(dovecot!.log()), 20_000);
      // the new auth process must be up before the login is tried: retry a temporary failure a few times
      let r = "";
      for (let i = 0; i < 10; i++) {
        r = last(await dialogue({ protocol: "imap", ...self, port: dovecot!.port("imap"), steps }));
        if (!TEMPFAIL.test(r)) break;
        await new Promise((ok) => setTimeout(ok, 1000));
      }
      expect(r).toMatch(LOGGED_IN);
      const out = await dialogue({ protocol: "imap", port: dovecot!.port("imap"), steps });
      expect(last(out)).toBe("a NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.");
    } finally {
      writeInventory();
      await apply();
    }
  }, 180_000);
});
