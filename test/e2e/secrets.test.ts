// Secrets: their sources are bounded (a FIFO, /dev/zero, a file over 64 KiB,
// a command that sleeps or floods all fail fast, naming the secret and the
// host), any printable password converges in one apply and reaches
// nullmailer's parser and Postfix's real postmap unchanged, and a secret
// given as { env: NAME } is in the environment of no program mailfleet
// starts (read from /proc/<pid>/environ of each).
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderRemoteLine } from "../../roles/nullmailer/remotes.ts";
import { templates } from "../../roles/postfix-satellite/resources.ts";
import { SECRET_MAX_BYTES, type SecretResolver } from "../../src/inventory/secrets.ts";
import { mailfleet, POSTFIX_ROOT, withoutProgress } from "../support/cli.ts";
import { nullmailerParse } from "../support/nullmailer-argparse.ts";
import { ensurePostfixAccounts, postfixTool } from "../support/postfix.ts";

const tmp = mkdtempSync(path.join(os.tmpdir(), "mf-secrets-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

/** A sandbox fleet of one nullmailer zone and one Postfix satellite whose relay password is `password`. */
function fleet(password: string): { dir: string; inv: string } {
  const dir = path.join(tmp, `fleet-${++n}`);
  mkdirSync(dir);
  const inv = path.join(dir, "inventory.yaml");
  writeFileSync(
    inv,
    `defaults:
  domain: example.org
  adminaddr: root@example.org
  relay: { host: smtp.relay.example, port: 587, tls: starttls, auth: { user: relay-user, password: ${password} } }
hosts:
  zone1: { platform: smartos, roles: [nullmailer], transport: { type: local, root: sandbox/zone1 } }
  pi: { platform: debian, roles: [postfix-satellite], transport: { type: local, root: sandbox/pi } }
`,
  );
  return { dir, inv };
}

describe("secret sources are bounded", () => {
  const cases: [string, (dir: string) => string, RegExp][] = [
    ["a FIFO", (d) => (execFileSync("mkfifo", [path.join(d, "pw")]), "{ file: pw }"), /secret file \S+\/pw is a FIFO \(named pipe\); give a regular file/],
    ["/dev/zero", () => "{ file: /dev/zero }", /secret file \/dev\/zero is a character device/],
    ["a directory", () => "{ file: /tmp }", /secret file \/tmp is a directory/],
    ["a file over 64 KiB", (d) => (writeFileSync(path.join(d, "pw"), "x".repeat(SECRET_MAX_BYTES + 1)), "{ file: pw }"), /secret (from )?file \S+\/pw is larger than 64 KiB/],
    ["a file that is not UTF-8", (d) => (writeFileSync(path.join(d, "pw"), Buffer.from([0x70, 0xe9, 0x0a])), "{ file: pw }"), /secret from file \S+\/pw is not UTF-8 text/],
    ["a command that sleeps", () => `{ command: "sleep 317; echo pw" }`, /secret command "sleep 317; echo pw" did not finish within 2 s \(--secret-timeout\); it was stopped/],
    ["a command that leaves a child behind", () => `{ command: "sleep 318 & sleep 319; echo pw" }`, /did not finish within 2 s/],
    ["a command that floods", () => `{ command: "yes" }`, /secret command "yes" printed more than 64 KiB; it was stopped/],
  ];

  it.each(cases)("%s: plan fails in seconds, naming the host and the secret; nothing written, nothing left running", async (_what, make, message) => {
    const { dir } = fleet("{ env: UNUSED }");
    const inv = path.join(dir, "inventory.yaml");
    writeFileSync(inv, readFileSync(inv, "utf8").replace("{ env: UNUSED }", make(dir)));
    const started = Date.now();
    const r = await mailfleet(["apply", "-i", inv, "--yes", "--secret-timeout", "2"]);
    // in seconds, not after the sleeps (317 s and more): a bound ten times and more what the run takes on a loaded machine
    expect(Date.now() - started).toBeLessThan(120_000);
    expect(r.code).toBe(1);
    for (const host of ["zone1", "pi"]) expect(r.stdout + r.stderr).toMatch(new RegExp(`${host}: (error: )?.*${message.source}`));
    expect(existsSync(path.join(dir, "sandbox"))).toBe(false);
    expect(execFileSync("sh", ["-c", "pgrep -f 'sleep 31[789]' || true"], { encoding: "utf8" })).toBe("");
  }, 180_000);
});

const PASSWORDS: [string, string][] = [
  ["quotes of both kinds", `it's "quoted" ''""'`],
  ["a long run of single quotes", "'".repeat(20_000)],
  ["a long run of double quotes", '"'.repeat(20_000)],
  ["backslashes and printf escapes", "\\\\ \\n \\c %s %b \\0101 \\"],
  ["shell syntax", "$(touch /tmp/mf-pwned) `id` ; | & > < * ? [a] ~ #"],
  ["inner spaces and tabs", "a  b\tc"],
  ["unicode", "pässwörd ☃ 密码"],
  ["the largest allowed (64 KiB)", `${"%'\"\\ ".repeat(Math.floor(SECRET_MAX_BYTES / 5))}x`],
];
// sasl_passwd's value is the rest of its line, trimmed: a password that starts or ends with whitespace cannot be stored there.

describe("any printable password", () => {
  const resolver = (v: string): SecretResolver => ({ value: () => v, revealed: () => [v] });

  it.each(PASSWORDS)("%s: nullmailer's remotes parser reads it back (lib/argparse.cc)", (_w, pw) => {
    const line = renderRemoteLine({ host: "smtp.relay.example", port: 587, tls: "starttls", auth: { user: "relay-user", password: { env: "X" } } }, resolver(pw));
    expect(nullmailerParse(line)).toEqual(["smtp.relay.example", "smtp", "--port=587", "--starttls", "--user=relay-user", `--pass=${pw}`]);
  });

  it.each(PASSWORDS)("%s: Postfix's postmap stores it in sasl_passwd and returns it", async (_w, pw) => {
    // postmap runs as Postfix's mail_owner; that it exists must not depend on which test ran before
    await ensurePostfixAccounts();
    const dir = mkdtempSync(path.join(tmp, "postmap-"));
    writeFileSync(path.join(dir, "main.cf"), "compatibility_level = 3.6\n");
    copyFileSync(path.join(POSTFIX_ROOT, "usr/share/postfix/master.cf.dist"), path.join(dir, "master.cf"));
    const map = path.join(dir, "sasl_passwd");
    writeFileSync(map, templates.render("sasl_passwd", { entries: [{ key: "[smtp.relay.example]:587", user: "relay-user", password: pw }] }));
    expect((await postfixTool("postmap", ["-c", dir, `hash:${map}`])).code).toBe(0);
    const q = await postfixTool("postmap", ["-c", dir, "-q", "[smtp.relay.example]:587", `hash:${map}`]);
    expect(q.stdout).toBe(`relay-user:${pw}`);
  });

  it.each(PASSWORDS.filter(([w]) => /long run|largest|quotes of/.test(w)))("%s: one apply converges on both roles, the value never printed", async (_w, pw) => {
    const { dir, inv } = fleet("{ file: pw }");
    writeFileSync(path.join(dir, "pw"), `${pw}\n`);
    const apply = await mailfleet(["apply", "-i", inv, "--yes"]);
    expect(withoutProgress(apply.stderr)).toBe("");
    expect(apply.code).toBe(0);
    const plan = await mailfleet(["plan", "-i", inv, "--detailed-exitcode"]);
    expect(plan.code, plan.stdout).toBe(0);
    expect(apply.stdout + plan.stdout).not.toContain(pw.slice(0, 64));
    expect(readFileSync(path.join(dir, "sandbox/pi/etc/postfix/sasl_passwd"), "utf8")).toContain(`relay-user:${pw}\n`);
  });
});

describe("secrets given as { env: NAME } stay out of children's environments", () => {
  it("the local transport's sh, ssh and secret commands start without the variable", async () => {
    const dir = path.join(tmp, "environ");
    mkdirSync(dir);
    const seen = path.join(dir, "seen");
    mkdirSync(seen);
    // Wrappers that record their own /proc/<pid>/environ, then run the real program.
    const bin = path.join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(path.join(bin, "ssh"), `#!/bin/sh\ncp /proc/$$/environ ${seen}/ssh.$$\nexec /usr/bin/ssh "$@"\n`);
    writeFileSync(path.join(dir, "shell"), `#!/bin/sh\ncp /proc/$$/environ ${seen}/sh.$$\nexec /bin/sh "$@"\n`);
    chmodSync(path.join(bin, "ssh"), 0o755);
    chmodSync(path.join(dir, "shell"), 0o755);
    const inv = path.join(dir, "inventory.yaml");
    writeFileSync(
      inv,
      `defaults:
  domain: example.org
  relay: { host: smtp.relay.example, port: 587, tls: starttls, auth: { user: u, password: { env: MF_TEST_RELAY_PW } } }
  postfix: { senderAuth: { "backup@example.org": { user: b, password: { command: "cp /proc/$$/environ ${seen}/command.$$; echo other-pw" } } } }
hosts:
  here: { platform: debian, roles: [postfix-satellite], transport: { type: local, root: sandbox/here } }
  there: { platform: debian, roles: [postfix-satellite], transport: { type: ssh, address: 127.0.0.1, port: 9, hostKeyChecking: off } }
`,
    );
    const value = "s3cret-value-9f2c";
    const r = await mailfleet(["plan", "-i", inv], {
      env: { MF_TEST_RELAY_PW: value, MAILFLEET_LOCAL_SHELL: path.join(dir, "shell"), PATH: `${bin}:${process.env.PATH}` },
    });
    expect(r.stdout + r.stderr).toMatch(/here/);
    const files = readdirSync(seen);
    expect(files.some((f) => f.startsWith("sh."))).toBe(true);
    expect(files.some((f) => f.startsWith("ssh."))).toBe(true);
    expect(files.some((f) => f.startsWith("command."))).toBe(true);
    for (const f of files) {
      const environ = readFileSync(path.join(seen, f), "utf8").split("\0");
      expect(environ.some((e) => e.startsWith("PATH=")), f).toBe(true);
      expect(environ.filter((e) => e.startsWith("MF_TEST_RELAY_PW=") || e.includes(value)), f).toEqual([]);
    }
    expect(r.stdout + r.stderr).not.toContain(value);
  });
});
