// The nullmailer-inject shim, as the role renders it, in front of a recording
// stand-in for nullmailer-inject, under dash, ksh93 and busybox sh; then its
// lifecycle (wrap, package upgrade, unwrap) through the CLI on a sandbox.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nullmailer } from "../../roles/nullmailer/index.ts";
import { nullmailerPlatforms } from "../../roles/nullmailer/platforms.ts";
import { roleResources } from "../../src/engine/roles.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { maskingResolver } from "../../src/inventory/secrets.ts";
import { debian } from "../../src/platforms/debian.ts";
import type { ShimResource } from "../../roles/nullmailer/shim.ts";
import { mailfleet, REPO, withoutProgress } from "../support/cli.ts";
import { checkShells, SHELLS } from "../support/shells.ts";

const STANDIN = path.join(REPO, "test/fixtures/standin-nullmailer-inject");
const tmp = mkdtempSync(path.join(os.tmpdir(), "mf-shim-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The shim resource the nullmailer role produces when nullmailer-inject lives at `inject`. */
function roleShim(inject: string): ShimResource {
  const inv = parseInventory(
    "hosts:\n  h1: { platform: debian, roles: [nullmailer], domain: example.test, relay: { host: 127.0.0.1 } }\n",
    path.join(tmp, "inventory.yaml"),
  );
  const data = { ...nullmailerPlatforms.debian, inject };
  const shim = roleResources(nullmailer, inv.hosts[0]!, { platform: debian, data, secrets: maskingResolver }).find((r) => r.kind === "shim");
  if (!shim || shim.kind !== "shim") throw new Error("the nullmailer role made no shim");
  return shim;
}

// A directory name with a space and a quote: the shim must quote the path it execs.
const binDir = path.join(tmp, "bin dir's");
const shim = roleShim(path.join(binDir, "nullmailer-inject"));
const shimPath = path.join(binDir, "nullmailer-inject");

beforeAll(() => {
  checkShells();
  mkdirSync(binDir, { recursive: true });
  writeFileSync(shimPath, shim.content, { mode: 0o755 });
  copyFileSync(STANDIN, shim.realPath);
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  argv: string[];
  stdin: Buffer;
}

let runNo = 0;
function runShim(shellArgv: string[], args: string[], input: Buffer, opts: { exit?: number; stdinFrom?: "pipe" | "file" } = {}): Run {
  const record = path.join(tmp, `run-${++runNo}`);
  mkdirSync(record);
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", STANDIN_RECORD: record, STANDIN_EXIT: String(opts.exit ?? 0) };
  let fd: number | undefined;
  if (opts.stdinFrom === "file") {
    writeFileSync(path.join(record, "input"), input);
    fd = openSync(path.join(record, "input"), "r");
  }
  try {
    const r = spawnSync(shellArgv[0]!, [...shellArgv.slice(1), shimPath, ...args], {
      env,
      input: fd === undefined ? input : undefined,
      stdio: [fd ?? "pipe", "pipe", "pipe"],
      timeout: 20_000,
    });
    if (r.error) throw r.error;
    const argvRaw = readFileSync(path.join(record, "argv"), "utf8");
    return {
      code: r.status,
      stdout: r.stdout.toString("latin1"),
      stderr: r.stderr.toString("latin1"),
      argv: argvRaw === "" ? [] : argvRaw.slice(0, -1).split("\0"),
      stdin: readFileSync(path.join(record, "stdin")),
    };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const b = (s: string) => Buffer.from(s, "latin1");
const CRON = [
  "To: root",
  "Subject: Cron <root@zone1> echo hi",
  "Auto-Submitted: auto-generated",
  "X-Cron-User: root",
  "X-Cron-Job-Name: echo hi",
  "MIME-Version: 1.0",
  "Content-Type: text/plain",
  "Content-Length: 3",
  "",
  "hi",
  "",
].join("\n");

/** [what, input, what nullmailer-inject must receive] */
const CASES: [string, Buffer, Buffer][] = [
  ["illumos cron's mbox separator", b(`From root Mon Nov 14 23:42 UTC 2016\n${CRON}`), b(CRON)],
  ["a quoted >From separator", b(`>From root Mon Nov 14 23:42 UTC 2016\n${CRON}`), b(CRON)],
  ["CRLF line ends", b("From root Mon Nov 14 23:42 UTC 2016\r\nTo: root\r\nSubject: x\r\n\r\nhi\r\n"), b("To: root\r\nSubject: x\r\n\r\nhi\r\n")],
  ["no final newline", b("From root x\nTo: root\n\nlast line"), b("To: root\n\nlast line")],
  ["only a From line, no newline", b("From root Mon Nov 14 23:42 UTC 2016"), b("")],
  ["only a From line", b("From root Mon Nov 14 23:42 UTC 2016\n"), b("")],
  [
    "8-bit bytes, backslashes, printf and shell syntax in the rest",
    b("From root x\nSubject: caf\xe9 \xff\xfe \\n \\c %s\n\n\x80\x81\xa0 body \\0101 $(id) `id` $mf_buf mf_end\nmf_end\n"),
    b("Subject: caf\xe9 \xff\xfe \\n \\c %s\n\n\x80\x81\xa0 body \\0101 $(id) `id` $mf_buf mf_end\nmf_end\n"),
  ],
  [
    "NUL bytes after the first 4 KiB",
    b(`From root x\nSubject: s\n\n${"y".repeat(5000)}\n\x00\x00 nul\n`),
    b(`Subject: s\n\n${"y".repeat(5000)}\n\x00\x00 nul\n`),
  ],
  ["every leading From line goes, as in 2.1", b("From a x\n>From b y\nFrom c z\nTo: root\n\nFrom d: body\n"), b("To: root\n\nFrom d: body\n")],
  ["only From lines", b("From a x\nFrom b y\n"), b("")],
  ["a From line later on is kept", b("To: root\nFrom a x\n\nhi\n"), b("To: root\nFrom a x\n\nhi\n")],
  ["a message of just over 4 KiB", b(`From a x\nSubject: s\n\n${"z\n".repeat(2100)}`), b(`Subject: s\n\n${"z\n".repeat(2100)}`)],
  ["a long first line", b(`Subject: ${"w".repeat(9000)}\n\nbody\n`), b(`Subject: ${"w".repeat(9000)}\n\nbody\n`)],
  ["empty input", b(""), b("")],
];
/** First lines that are not a From separator: kept byte for byte. */
const KEPT = [
  "To: root\nFrom root x\n\nhi\n",
  "Fromage: brie\n\nhi\n",
  "from root lower case\n",
  " From root leading space\n",
  "From:root@example.org\n",
  "From\ttab\n",
  "-n \\c %s %b \\\\ caf\xe9 \xff\r\nTo: root\r\n",
  "Subject: no newline at all",
  "\n\nbody after an empty first line\n",
];

describe.each(SHELLS)("inject shim under $name", (shell) => {
  it("drops NUL bytes within the first 4 KiB (the documented limit: the shell's read cannot hold them)", () => {
    const r = runShim(shell.argv, [], b("Subject: a\x00b\n\nbody\x00\n"));
    expect(r.code).toBe(0);
    expect(r.stdin.toString("latin1")).toBe("Subject: ab\n\nbody\n");
  });

  for (const stdinFrom of ["pipe", "file"] as const) {
    it.each(CASES)(`drops the separator, passes the rest byte for byte (stdin from a ${stdinFrom}): %s`, (_what, input, expected) => {
      const r = runShim(shell.argv, ["-t"], input, { stdinFrom });
      expect(r.code).toBe(0);
      expect(r.stdin.toString("hex")).toBe(expected.toString("hex"));
    });

    it.each(KEPT.map((k) => [JSON.stringify(k).slice(0, 40), b(k)] as const))(`keeps a first line that is no separator (stdin from a ${stdinFrom}): %s`, (_w, input) => {
      const r = runShim(shell.argv, [], input, { stdinFrom });
      expect(r.code).toBe(0);
      expect(r.stdin.toString("hex")).toBe(input.toString("hex"));
    });
  }

  it("passes a large message through unchanged (every byte value after the first 4 KiB)", () => {
    const body = Buffer.alloc(3 << 20);
    for (let i = 0; i < body.length; i++) body[i] = i < 5000 ? (i % 50 === 49 ? 0x0a : 0x61 + (i % 26)) : (i * 7 + 13) & 0xff;
    const input = Buffer.concat([b(`From root x\n${CRON}`), body]);
    for (const stdinFrom of ["pipe", "file"] as const) {
      const r = runShim(shell.argv, [], input, { stdinFrom });
      expect(r.code).toBe(0);
      expect(r.stdin.equals(Buffer.concat([b(CRON), body]))).toBe(true);
    }
  });

  it.each([0, 1, 111])("passes exit code %i through", (code) => {
    const r = runShim(shell.argv, ["-t"], b(`From root x\n${CRON}`), { exit: code });
    expect(r.code).toBe(code);
    expect(r.stdin.toString("latin1")).toBe(CRON);
  });

  it("preserves arguments with spaces, quotes and shell characters", () => {
    const args = ["-f", "a b  c", "it's", '"dq"', "$(touch /tmp/mf-shim-pwned)", "`id`", "*", "", "back\\slash", "caf\xe9", "-t", "--"];
    const r = runShim(shell.argv, args, b("To: root\n\nhi\n"));
    expect(r.code).toBe(0);
    expect(r.argv).toEqual(args);
    expect(existsSync("/tmp/mf-shim-pwned")).toBe(false);
  });

  it("passes the real program's stdout and stderr through", () => {
    const r = runShim(shell.argv, [], b("From root x\nTo: root\n\nhi\n"), { exit: 1 });
    expect(r.stdout).toBe("standin-inject stdout\n");
    expect(r.stderr).toBe("standin-inject stderr\n");
  });
});

/** nullmailer-inject built from Debian's 2.2 source with the 2.1 fix (babec3b) reverted (scripts/test-deps.mjs). */
const UNFIXED = path.join(REPO, ".deps/nullmailer-unfixed/nullmailer-inject");
const FIXED = "/usr/bin/nullmailer-inject";

/** What `COMMAND -n ARGS` (a nullmailer-inject, or a shell and the shim) makes of `input`: headers, body, exit code. */
function inject(command: string[], args: string[], input: string): { code: number | null; headers: string[]; body: string; stderr: string } {
  // -n first: the options end at the first recipient, and nothing may be queued on this machine
  const r = spawnSync(command[0]!, [...command.slice(1), "-n", ...args], { input, encoding: "latin1", timeout: 20_000 });
  const [head, ...rest] = r.stdout.split("\n\n");
  return { code: r.status, headers: (head ?? "").split("\n"), body: rest.join("\n\n"), stderr: r.stderr };
}

describe("the shim in front of a real nullmailer-inject", () => {
  const dir = path.join(tmp, "real");
  const wrapped = (real: string) => {
    const r = roleShim(path.join(dir, path.basename(path.dirname(real)), "nullmailer-inject"));
    mkdirSync(path.dirname(r.path), { recursive: true });
    writeFileSync(r.path, r.content, { mode: 0o755 });
    copyFileSync(real, r.realPath);
    return r.path;
  };
  const cron = `From root Mon Nov 14 23:42 UTC 2016\n${CRON}`;

  it("the unfixed build shows the bug: cron mail's headers end up in the body, and with -h (header recipients) it is refused", () => {
    const plain = inject([UNFIXED], ["-a", "root@example.org"], cron);
    expect(plain.headers).not.toContain("Subject: Cron <root@zone1> echo hi");
    expect(plain.body).toContain("Subject: Cron <root@zone1> echo hi");
    const byHeader = inject([UNFIXED], ["-h"], cron);
    expect(byHeader.code).toBe(1);
    expect(byHeader.stderr).toMatch(/No recipients were listed/);
  });

  describe.each(SHELLS)("under $name", (shell) => {
    it.each([
      ["unfixed (2.0 behaviour)", UNFIXED],
      ["Debian's 2.2", FIXED],
    ])("%s: cron mail keeps its headers, -h finds its recipient, mail without a From line is unchanged", (_w, real) => {
      const shimmed = [...shell.argv, wrapped(real)];
      const r = inject(shimmed, ["-h"], cron);
      expect(r.code, r.stderr).toBe(0);
      expect(r.headers).toEqual(expect.arrayContaining([expect.stringMatching(/^To: root@/), "Subject: Cron <root@zone1> echo hi", "X-Cron-Job-Name: echo hi"]));
      expect(r.body).toBe("hi\n");
      const plainMail = "To: root\nSubject: plain\n\nbody\n";
      const direct = inject([real], ["-h"], plainMail);
      const through = inject(shimmed, ["-h"], plainMail);
      const stable = (h: string[]) => h.filter((l) => !/^(Date|Message-Id):/.test(l));
      expect(stable(through.headers)).toEqual(stable(direct.headers));
      expect(through.body).toBe(direct.body);
    });
  });
});

describe("inject shim lifecycle through the CLI (sandbox)", () => {
  const dir = path.join(tmp, "fleet");
  const inv = path.join(dir, "inventory.yaml");
  const bin = path.join(dir, "sandbox/usr/bin/nullmailer-inject");
  const real = `${bin}.real`;
  const standin = readFileSync(STANDIN);
  const upgraded = Buffer.concat([standin, b("# nullmailer-inject from a newer package\n")]);
  const inventory = (mode: string) =>
    writeFileSync(
      inv,
      `hosts:
  box:
    platform: debian
    roles: [nullmailer]
    domain: example.test
    relay: { host: 127.0.0.1 }
    transport: { type: local, root: sandbox }
    nullmailer: { injectShim: ${mode} }
`,
    );
  const plan = () => mailfleet(["plan", "-i", inv, "--detailed-exitcode"]);
  const apply = async () => {
    const r = await mailfleet(["apply", "-i", inv, "--yes"]);
    expect(withoutProgress(r.stderr)).toBe("");
    expect(r.code).toBe(0);
    return r;
  };
  const wrapper = () => roleShim("/usr/bin/nullmailer-inject").content;

  beforeAll(() => {
    mkdirSync(path.dirname(bin), { recursive: true });
    writeFileSync(bin, standin, { mode: 0o755 });
  });

  it("auto in a sandbox (version unknown) leaves the binary alone", async () => {
    inventory("auto");
    await apply();
    expect((await plan()).code).toBe(0);
    expect(readFileSync(bin).equals(standin)).toBe(true);
    expect(existsSync(real)).toBe(false);
  });

  it("always: plan shows the wrap, apply wraps and keeps the binary at .real, re-plan is clean", async () => {
    inventory("always");
    const p = await plan();
    expect(p.code).toBe(2);
    expect(p.stdout).toContain("wrap /usr/bin/nullmailer-inject, keeping the binary as /usr/bin/nullmailer-inject.real (injectShim: always)");
    await apply();
    expect(readFileSync(bin, "utf8")).toBe(wrapper());
    expect(statSync(bin).mode & 0o7777).toBe(0o755);
    expect(readFileSync(real).equals(standin)).toBe(true);
    expect(readdirSync(path.dirname(bin)).sort()).toEqual(["nullmailer-inject", "nullmailer-inject.real"]);
    const again = await plan();
    expect(again.stdout).toContain("no changes");
    expect(again.code).toBe(0);
  });

  it("a package upgrade that overwrites the wrapper is wrapped again, the new binary kept", async () => {
    const next = `${bin}.dpkg-new`;
    writeFileSync(next, upgraded, { mode: 0o755 });
    renameSync(next, bin);
    const p = await plan();
    expect(p.code).toBe(2);
    expect(p.stdout).toContain("a new binary replaced the wrapper; it becomes /usr/bin/nullmailer-inject.real");
    await apply();
    expect(readFileSync(bin, "utf8")).toBe(wrapper());
    expect(readFileSync(real).equals(upgraded)).toBe(true);
    expect(readdirSync(path.dirname(bin)).sort()).toEqual(["nullmailer-inject", "nullmailer-inject.real"]);
    expect((await plan()).code).toBe(0);
  });

  it("never: apply puts the original binary back", async () => {
    inventory("never");
    const p = await plan();
    expect(p.code).toBe(2);
    expect(p.stdout).toContain("restore /usr/bin/nullmailer-inject from /usr/bin/nullmailer-inject.real (injectShim: never)");
    await apply();
    expect(readFileSync(bin).equals(upgraded)).toBe(true);
    expect(statSync(bin).mode & 0o7777).toBe(0o755);
    expect(existsSync(real)).toBe(false);
    expect((await plan()).code).toBe(0);
  });
});
