// Silent no-ops and unsafe roots: table keys that would be comments, a root
// prefix that is the whole machine, a sandbox tree whose links lead out of
// it, raw control characters from the inventory. Each is refused, clearly.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mailfleet } from "../support/cli.ts";

const tmp = mkdtempSync(path.join(os.tmpdir(), "mf-unsafe-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

function inventory(host: string): { dir: string; file: string } {
  const dir = path.join(tmp, `case-${++n}`);
  mkdirSync(dir);
  const file = path.join(dir, "inventory.yaml");
  writeFileSync(
    file,
    `defaults:
  domain: example.org
  adminaddr: root@example.org
  relay: { host: relay.example.org, port: 587, tls: starttls, auth: { user: u, password: { env: MF_UNSAFE_PW } } }
hosts:
${host}`,
  );
  return { dir, file };
}

describe("keys that would be comment lines in a lookup table", () => {
  it.each([
    ["senderAuth", `{ "#backup@example.org": { user: b, password: { env: MF_UNSAFE_PW } } }`],
    ["genericMaps", `{ "#root": "h1@example.org" }`],
  ])("postfix.%s: a key starting with '#' is refused where it is written", async (setting, value) => {
    const { file } = inventory(`  h1:\n    platform: debian\n    roles: [postfix-satellite]\n    transport: { type: local, root: sandbox/h1 }\n    postfix: { ${setting}: ${value} }\n`);
    const r = await mailfleet(["validate", "-i", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`inventory\\.yaml:10:\\d+: hosts\\.h1\\.postfix\\.${setting}\\."#\\S*": .*a key starting with '#' would be a comment line in the table and do nothing`));
  });
});

describe("a root prefix that is the whole machine", () => {
  // validate only: were the refusal missing, an apply would write this machine's /etc
  it.each([
    ["root: /", "/"],
    ["a relative root that climbs to /", "../".repeat(40)],
    ["a root that is a symlink to /", "to-slash"],
  ])("%s is refused: a sandbox would skip owners, packages and services", async (_what, root) => {
    const { dir, file } = inventory(`  h1:\n    platform: debian\n    roles: [nullmailer]\n    transport: { type: local, root: "${root}" }\n`);
    if (root === "to-slash") symlinkSync("/", path.join(dir, "to-slash"));
    for (const cmd of ["validate", "plan"]) {
      const r = await mailfleet([cmd, "-i", file]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/inventory\.yaml:9:\d+: hosts\.h1\.transport\.root: root .*is the whole machine, not a sandbox; leave root out/);
    }
  });

  it("an ssh root of / is refused too", async () => {
    const { file } = inventory(`  h1:\n    platform: debian\n    roles: [nullmailer]\n    transport: { type: ssh, address: 127.0.0.1, root: / }\n`);
    const r = await mailfleet(["validate", "-i", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/hosts\.h1\.transport\.root: root \/ is the whole machine/);
  });
});

describe("a sandbox tree whose directories lead out of it", () => {
  // The link is relative (../outside), as the rules for tests require; an absolute one escapes the same way.
  it("plan and apply refuse, and nothing is written outside the root", async () => {
    const { dir, file } = inventory(`  h1:\n    platform: debian\n    roles: [nullmailer]\n    transport: { type: local, root: sandbox/h1 }\n`);
    mkdirSync(path.join(dir, "sandbox/h1"), { recursive: true });
    mkdirSync(path.join(dir, "outside"));
    symlinkSync("../../outside", path.join(dir, "sandbox/h1/etc"));
    const env = { MF_UNSAFE_PW: "pw" };
    const plan = await mailfleet(["plan", "-i", file], { env });
    expect(plan.code).toBe(1);
    expect(plan.stdout + plan.stderr).toMatch(/\/etc in the root prefix \S+\/sandbox\/h1 resolves to \S+\/outside, outside it \(a symlink leads out\)/);
    const apply = await mailfleet(["apply", "-i", file, "--yes"], { env });
    expect(apply.code).toBe(1);
    expect(readdirSync(path.join(dir, "outside"))).toEqual([]);
    expect(existsSync(path.join(dir, "sandbox/h1/var"))).toBe(false);
  });
});

describe("control characters from the inventory are shown escaped", () => {
  it("an unknown key holding an escape sequence and a newline", async () => {
    const { file } = inventory(`  h1:\n    platform: debian\n    roles: [nullmailer]\n    "\\e[2J\\nx": 1\n`);
    const r = await mailfleet(["validate", "-i", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`hosts.h1."\\u001b[2J\\nx": unknown key '\\u001b[2J\\nx'`);
    expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });
});
