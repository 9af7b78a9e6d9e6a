// PEM and binary secrets written as files (src/resources/file.ts secretFile),
// through the real CLI with the test-only role of test/support/key-role.ts on
// a sandbox host: a PEM key from a file, a certificate chain from the
// environment, a DER blob (every byte value) from a command land byte for
// byte with their modes and converge; a rotated one plans "sensitive content
// changed" and nothing else; no form of any of them (the text, a base64
// line, the base64 or hex of the bytes) appears in plan, plan --json, a saved
// plan, show, apply, apply --json, render or validate. Binary content lands
// exactly under dash, ksh93 and busybox sh, whose printf is a builtin (the
// content is in the script, never in argv); bad values are refused naming the
// host and the secret, and nothing is written.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECRET_MAX_BYTES, secretForms } from "../../src/inventory/secrets.ts";
import { withoutProgress, type CliResult } from "../support/cli.ts";
import { testKeysCli } from "../support/key-role.ts";
import { checkShells, SHELLS } from "../support/shells.ts";

const tmp = mkdtempSync(path.join(os.tmpdir(), "mf-secret-files-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => checkShells());

const CHAIN_ENV = "MF_E2E_CHAIN";
const pkcs8 = (bits: number) => generateKeyPairSync("rsa", { modulusLength: bits, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } }).privateKey;
/** A chain of two self-signed certificates, made with openssl. */
function certificateChain(): string {
  const cert = (cn: string) =>
    execFileSync("openssl", ["req", "-x509", "-newkey", "ed25519", "-nodes", "-keyout", "/dev/null", "-subj", `/CN=${cn}`, "-days", "2"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  return `${cert("mail.example.org")}${cert("Example CA")}`;
}
/** A DER blob: every byte value (NUL, 0x0a, invalid UTF-8) among random bytes, ending in a line end. */
const blob = (size: number) => Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(size - 257), Buffer.from("\n")]);

interface Fleet {
  dir: string;
  inv: string;
  root: string;
  env: Record<string, string>;
  run(args: string[], env?: Record<string, string>): Promise<CliResult>;
  write(secrets: { tlsKey?: string; chain?: string; der?: Buffer }): void;
}

let n = 0;
function fleet(testKeys = "{ dir: /etc/test-keys, tlsKey: { file: secrets/tls.key }, chain: { env: MF_E2E_CHAIN }, der: { command: \"cat secrets/key.der\" } }"): Fleet {
  const dir = path.join(tmp, `fleet-${++n}`);
  mkdirSync(path.join(dir, "secrets"), { recursive: true });
  const inv = path.join(dir, "inventory.yaml");
  writeFileSync(inv, `defaults: { domain: example.org }\nhosts:\n  k1: { platform: debian, roles: [test-keys], testKeys: ${testKeys}, transport: { type: local, root: sandbox/k1 } }\n`);
  const f: Fleet = {
    dir,
    inv,
    root: path.join(dir, "sandbox/k1"),
    env: {},
    run: (args, env) => testKeysCli([args[0]!, "-i", inv, ...args.slice(1)], { cwd: dir, env: { ...f.env, ...env } }),
    write(s) {
      if (s.tlsKey) writeFileSync(path.join(dir, "secrets/tls.key"), s.tlsKey, { mode: 0o600 });
      if (s.chain) f.env[CHAIN_ENV] = s.chain;
      if (s.der) writeFileSync(path.join(dir, "secrets/key.der"), s.der, { mode: 0o600 });
    },
  };
  return f;
}

/** Every form of the secrets that output must never hold. */
const formsOf = (s: { tlsKey: string; chain: string; der: Buffer }) => [...secretForms("pem", Buffer.from(s.tlsKey)), ...secretForms("pem", Buffer.from(s.chain)), ...secretForms("binary", s.der)];
function expectNoForm(texts: string[], forms: string[]): void {
  expect(forms.length).toBeGreaterThan(3);
  for (const t of texts) for (const f of forms) expect(t.includes(f), `a form of a secret (${f.slice(0, 12)}…) in output`).toBe(false);
}
const printed = (...rs: CliResult[]) => rs.flatMap((r) => [r.stdout, r.stderr]);
const at = (f: Fleet, name: string) => path.join(f.root, "etc/test-keys", name);
const mode = (p: string) => statSync(p).mode & 0o777;

describe("PEM and binary secrets as files", () => {
  it("land byte for byte, 0600 or the 0640 asked, converge, and no form of them is printed or saved", async () => {
    const f = fleet();
    const secrets = { tlsKey: pkcs8(4096), chain: certificateChain(), der: blob(4096) };
    f.write(secrets);
    const plan = await f.run(["plan", "--detailed-exitcode"]);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toContain("+ create /etc/test-keys/tls.key (0600)\n      /etc/test-keys/tls.key: sensitive content (not shown)");
    expect(plan.stdout).toContain("+ create /etc/test-keys/chain.pem (0640)\n      /etc/test-keys/chain.pem: sensitive content (not shown)");
    expect(plan.stdout).toContain("+ create /etc/test-keys/key.der (0600)\n      /etc/test-keys/key.der: sensitive content (not shown)");
    const json = await f.run(["plan", "--json"]);
    const saved = await f.run(["plan", "--out", "plan.json"]);
    expect(saved.code, saved.stderr).toBe(0);
    const show = await testKeysCli(["show", "plan.json"], { cwd: f.dir });
    const showJson = await testKeysCli(["show", "--json", "plan.json"], { cwd: f.dir });
    const apply = await f.run(["apply", "plan.json"]);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/k1: applied 6 changes, verified/);

    expect(readFileSync(at(f, "tls.key"), "utf8")).toBe(secrets.tlsKey);
    expect(readFileSync(at(f, "chain.pem"), "utf8")).toBe(secrets.chain);
    expect(readFileSync(at(f, "key.der")).equals(secrets.der)).toBe(true);
    expect([mode(at(f, "tls.key")), mode(at(f, "chain.pem")), mode(at(f, "key.der"))]).toEqual([0o600, 0o640, 0o600]);

    const again = await f.run(["plan", "--detailed-exitcode"]);
    expect(again.code, again.stdout).toBe(0);
    const applyJson = await f.run(["apply", "--yes", "--json"]);
    expect(JSON.parse(applyJson.stdout).hosts[0].applied).toEqual([]);
    const render = await f.run(["render"]);
    expect(render.stdout).toContain("==> k1:/etc/test-keys/key.der (0600 root:root)\n(sensitive)");
    const renderJson = await f.run(["render", "--json"]);
    const validate = await f.run(["validate"]);
    expect(validate.code).toBe(0);
    const all = [plan, json, saved, show, showJson, apply, again, applyJson, render, renderJson, validate];
    expectNoForm([...printed(...all), readFileSync(path.join(f.dir, "plan.json"), "utf8")], formsOf(secrets));
  });

  it("a rotated secret plans 'sensitive content changed' and nothing of either value; a saved plan of it applies", async () => {
    const f = fleet();
    const before = { tlsKey: pkcs8(2048), chain: certificateChain(), der: blob(2048) };
    f.write(before);
    expect((await f.run(["apply", "--yes"])).code).toBe(0);
    const after = { tlsKey: pkcs8(2048), chain: certificateChain(), der: Buffer.from(before.der).reverse() };
    f.write(after);
    const plan = await f.run(["plan", "--detailed-exitcode", "--out", "plan.json"]);
    expect(plan.code, plan.stderr).toBe(2);
    for (const name of ["tls.key", "chain.pem", "key.der"]) {
      expect(plan.stdout).toContain(`~ update /etc/test-keys/${name}\n      /etc/test-keys/${name}: sensitive content changed (not shown)`);
    }
    expect(plan.stdout).toContain("3 to change");
    const apply = await testKeysCli(["apply", "plan.json"], { cwd: f.dir, env: f.env });
    expect(apply.code, apply.stderr).toBe(0);
    expect(readFileSync(at(f, "key.der")).equals(after.der)).toBe(true);
    expect(readFileSync(at(f, "chain.pem"), "utf8")).toBe(after.chain);
    expect((await f.run(["plan", "--detailed-exitcode"])).code).toBe(0);
    expectNoForm([...printed(plan, apply), readFileSync(path.join(f.dir, "plan.json"), "utf8")], [...formsOf(before), ...formsOf(after)]);
  });
});

describe("binary content under each shell", () => {
  it.each(SHELLS)("$name: printf is a builtin, so the content stays in the script (never in argv)", (shell) => {
    const out = execFileSync(shell.argv[0]!, [...shell.argv.slice(1), "-c", "command -V printf"], { encoding: "utf8" });
    expect(out).toMatch(/^printf is a (shell )?builtin$/m);
  });

  it.each(SHELLS)("$name: the largest binary secret (64 KiB, every byte value) lands byte for byte and converges", async (shell) => {
    const f = fleet("{ dir: /etc/test-keys, der: { file: secrets/key.der } }");
    const der = blob(SECRET_MAX_BYTES);
    expect(der.length).toBe(SECRET_MAX_BYTES);
    f.write({ der });
    const env = { MAILFLEET_LOCAL_SHELL: shell.env };
    const apply = await f.run(["apply", "--yes"], env);
    expect(withoutProgress(apply.stderr)).toBe("");
    expect(apply.code).toBe(0);
    expect(readFileSync(at(f, "key.der")).equals(der)).toBe(true);
    const again = await f.run(["plan", "--detailed-exitcode"], env);
    expect(again.code, again.stdout).toBe(0);
    expectNoForm(printed(apply, again), [...secretForms("binary", der), ...secretForms("binary", der.subarray(0, 4096))]);
  });
});

describe("refused values", () => {
  const cases: [string, string, (f: Fleet) => void, RegExp][] = [
    ["a password where a PEM key goes", "tlsKey: { file: secrets/tls.key }", (f) => writeFileSync(path.join(f.dir, "secrets/tls.key"), "correct horse battery staple\n"), /secret from file \S+\/secrets\/tls\.key is not PEM/],
    ["a PEM chain over 64 KiB", "chain: { env: MF_E2E_CHAIN }", (f) => (f.env[CHAIN_ENV] = certificateChain().repeat(Math.ceil((SECRET_MAX_BYTES + 1) / 600))), /secret from env MF_E2E_CHAIN is larger than 64 KiB; a PEM key or certificate chain is a few KiB/],
    ["binary bytes from the environment that are not base64", "der: { env: MF_E2E_DER }", (f) => (f.env.MF_E2E_DER = "\u00e9t\u00e9 2024"), /environment variable MF_E2E_DER \(a binary secret\) is not base64/],
    ["a binary file over 64 KiB", "der: { file: secrets/key.der }", (f) => f.write({ der: blob(SECRET_MAX_BYTES + 1) }), /secret file \S+\/secrets\/key\.der is larger than 64 KiB; a binary key is a few KiB/],
  ];
  it.each(cases)("%s: plan fails naming the host and the secret, nothing is written", async (_what, setting, make, message) => {
    const f = fleet(`{ dir: /etc/test-keys, ${setting} }`);
    make(f);
    const r = await f.run(["apply", "--yes"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`k1: ${message.source}`));
    expect(existsSync(f.root)).toBe(false);
  });
});
