// Keys generated on the host (src/resources/generated-key.ts) with the real
// openssl, through the real CLI with the test-only role of
// test/support/key-role.ts (an RSA key published as PEM, an Ed25519 key
// published as a DKIM record), on a sandbox host (root prefix) and on this
// machine's local transport in a temporary directory: the first apply
// generates them 0600 root:root, a second changes nothing (the same private
// key bytes), a wrong mode or group is fixed and the key kept, a deleted key
// plans "generate" again, a key replaced by hand makes a saved plan stale;
// plan --json publishes what openssl derives from each key. Under dash,
// ksh93 and busybox sh the same. No line of any private key appears in any
// output, saved plan, or Terraform's stack, plan or state.
import { execFileSync } from "node:child_process";
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secretForms } from "../../src/inventory/secrets.ts";
import type { PublicKeyFact } from "../../src/resources/types.ts";
import { shq } from "../../src/shell/quote.ts";
import type { CliResult } from "../support/cli.ts";
import { TEST_KEYS_CLI, testKeysCli } from "../support/key-role.ts";
import { checkShells, SHELLS } from "../support/shells.ts";
import { terraform } from "../support/terraform.ts";

const tmp = mkdtempSync(path.join(os.tmpdir(), "mf-generated-keys-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => checkShells());

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const mode = (p: string) => statSync(p).mode & 0o777;
const NOGROUP = 65534;

/** What openssl derives from a private key file: its public key (PEM) and that key's DER. */
const opensslPublic = (key: string) => ({
  pem: execFileSync("openssl", ["pkey", "-in", key, "-pubout"], { encoding: "utf8" }).trimEnd(),
  der: execFileSync("openssl", ["pkey", "-in", key, "-pubout", "-outform", "DER"]),
});
/** RFC 8463's DKIM record of an Ed25519 key: p= is the raw 32-byte public key, computed here with node's crypto. */
const dkimRecord = (key: string) => {
  const spki = createPublicKey(createPrivateKey(readFileSync(key))).export({ type: "spki", format: "der" });
  return `v=DKIM1; k=ed25519; p=${spki.subarray(-32).toString("base64")}`;
};

interface KeyFleet {
  dir: string;
  /** Where this machine finds the host's key directory. */
  keys: string;
  run(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** Every line each command printed, and every saved plan, for the leak check. */
  printed: string[];
  /** Every private key the host has had. */
  privateKeys: Set<string>;
  /** Reads the keys now on the host into privateKeys; returns their SHA-256s. */
  hashes(): { rsa: string; ed25519: string };
}

let n = 0;
function keyFleet(where: "sandbox" | "machine", extra = ""): KeyFleet {
  const dir = path.join(tmp, `fleet-${++n}`);
  mkdirSync(dir);
  const hostDir = where === "sandbox" ? "/etc/test-keys" : path.join(dir, "machine-keys");
  const transport = where === "sandbox" ? "{ type: local, root: sandbox/k1 }" : "{ type: local }";
  writeFileSync(path.join(dir, "inventory.yaml"), `defaults: { domain: example.org }\nhosts:\n  k1: { platform: debian, roles: [test-keys], testKeys: { dir: ${hostDir}${extra} }, transport: ${transport} }\n`);
  const keys = where === "sandbox" ? path.join(dir, "sandbox/k1", hostDir) : hostDir;
  const f: KeyFleet = {
    dir,
    keys,
    printed: [],
    privateKeys: new Set(),
    async run(args, env) {
      const r = await testKeysCli([args[0]!, "-i", "inventory.yaml", ...args.slice(1)], { cwd: dir, env });
      f.printed.push(r.stdout, r.stderr);
      return r;
    },
    hashes() {
      const read = (name: string) => {
        const bytes = readFileSync(path.join(keys, name));
        f.privateKeys.add(bytes.toString("utf8"));
        return sha256(bytes);
      };
      return { rsa: read("rsa.key"), ed25519: read("ed25519.key") };
    },
  };
  return f;
}

/** The host's public_keys in plan --json. */
async function published(f: KeyFleet, env?: Record<string, string>): Promise<PublicKeyFact[]> {
  const r = await f.run(["plan", "--json"], env);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { hosts: { public_keys: PublicKeyFact[] }[] }).hosts[0]!.public_keys;
}

/** No line of a private key the host has had (nor a block of one on one line) in anything printed or saved. */
function expectNoPrivateKey(f: KeyFleet, more: string[] = []): void {
  expect(f.privateKeys.size).toBeGreaterThanOrEqual(2);
  const forms = [...f.privateKeys].flatMap((k) => secretForms("pem", Buffer.from(k)));
  expect(forms.length).toBeGreaterThan(2 * f.privateKeys.size);
  const texts = [...f.printed, ...more];
  for (const t of texts) for (const form of forms) expect(t.includes(form), `a line of a private key (${form.slice(0, 10)}…) was printed or saved`).toBe(false);
}

describe.each(["sandbox", "machine"] as const)("keys generated on the host (%s)", (where) => {
  const what = where === "sandbox" ? "a sandbox host (root prefix)" : "this machine (local transport, a temporary directory)";
  let f: KeyFleet;
  let first: { rsa: string; ed25519: string };
  beforeAll(() => {
    f = keyFleet(where);
  });

  it(`${what}: the first apply generates both keys, 0600, root's`, async () => {
    const plan = await f.run(["plan", "--detailed-exitcode"]);
    expect(plan.code, plan.stderr).toBe(2);
    const owner = where === "machine" ? " root:root" : "";
    const keyDir = where === "machine" ? f.keys : "/etc/test-keys";
    expect(plan.stdout).toContain(`+ generate ${keyDir}/rsa.key (0600${owner}): test key (RSA 2048), a new private key made on the host`);
    expect(plan.stdout).toContain(`+ generate ${keyDir}/ed25519.key (0600${owner}): test DKIM key (Ed25519), a new private key made on the host`);
    const apply = await f.run(["apply", "--yes"]);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/k1: applied 3 changes, verified/);
    for (const name of ["rsa.key", "ed25519.key"]) {
      const p = path.join(f.keys, name);
      expect(mode(p)).toBe(0o600);
      expect([statSync(p).uid, statSync(p).gid]).toEqual([0, 0]);
      execFileSync("openssl", ["pkey", "-in", p, "-noout"]);
    }
    // nothing of the generation is left beside them
    expect(readdirSync(f.keys).sort()).toEqual(["ed25519.key", "rsa.key"]);
    first = f.hashes();
  });

  it(`${what}: plan --json publishes what openssl derives from each key, and the DER's SHA-256`, async () => {
    const rsa = opensslPublic(path.join(f.keys, "rsa.key"));
    const keyDir = where === "machine" ? f.keys : "/etc/test-keys";
    expect(await published(f)).toEqual([
      { id: "test-keys:rsa", path: `${keyDir}/rsa.key`, description: "test key (RSA 2048)", present: true, public: rsa.pem, sha256: sha256(rsa.der) },
      {
        id: "test-keys:ed25519",
        path: `${keyDir}/ed25519.key`,
        description: "test DKIM key (Ed25519)",
        present: true,
        public: dkimRecord(path.join(f.keys, "ed25519.key")),
        sha256: sha256(dkimRecord(path.join(f.keys, "ed25519.key"))),
      },
    ]);
  });

  it(`${what}: a second apply changes nothing; the private keys are the same bytes`, async () => {
    const again = await f.run(["apply", "--yes"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("Apply: 0 hosts changed, 1 unchanged");
    expect((await f.run(["plan", "--detailed-exitcode"])).code).toBe(0);
    expect(f.hashes()).toEqual(first);
  });

  it(`${what}: a wrong mode${where === "machine" ? " and group" : ""} is fixed, the key kept`, async () => {
    const rsa = path.join(f.keys, "rsa.key");
    chmodSync(rsa, 0o644);
    if (where === "machine") chownSync(rsa, 0, NOGROUP);
    const plan = await f.run(["plan", "--detailed-exitcode"]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(new RegExp(`~ update \\S+/rsa\\.key \\(mode 0644 -> 0600${where === "machine" ? ", group nogroup -> root" : ""}\\)\\n`));
    expect(plan.stdout).toContain("0 to add, 1 to change, 0 to remove");
    expect((await f.run(["apply", "--yes"])).code).toBe(0);
    expect(mode(rsa)).toBe(0o600);
    expect(statSync(rsa).gid).toBe(0);
    expect(f.hashes()).toEqual(first);
  });

  it(`${what}: a deleted key plans "generate" again; the new one is another key, and is published`, async () => {
    rmSync(path.join(f.keys, "ed25519.key"));
    const plan = await f.run(["plan", "--detailed-exitcode"]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/\+ generate \S+\/ed25519\.key \(0600( root:root)?\): test DKIM key \(Ed25519\)/);
    expect(plan.stdout).toContain("1 to add, 0 to change, 0 to remove");
    expect((await published(f)).find((k) => k.id === "test-keys:ed25519")).toMatchObject({ present: false, public: null, sha256: null });
    const apply = await f.run(["apply", "--yes", "--json"]);
    expect(apply.code, apply.stderr).toBe(0);
    // apply --json publishes the new key from its verifying probe
    const afterApply = (JSON.parse(apply.stdout) as { hosts: { public_keys: PublicKeyFact[] }[] }).hosts[0]!.public_keys;
    const now = f.hashes();
    expect(now.rsa).toBe(first.rsa);
    expect(now.ed25519).not.toBe(first.ed25519);
    expect(afterApply.find((k) => k.id === "test-keys:ed25519")!.public).toBe(dkimRecord(path.join(f.keys, "ed25519.key")));
    expect(await published(f)).toEqual(afterApply);
  });

  it(`${what}: a key replaced by hand after a saved plan makes that plan stale; nothing is written`, async () => {
    const rsa = path.join(f.keys, "rsa.key");
    chmodSync(rsa, 0o640);
    const plan = await f.run(["plan", "--out", "plan.json"]);
    expect(plan.code, plan.stderr).toBe(0);
    // the same path, mode and owner, another key: only its public half tells
    const other = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } }).privateKey;
    writeFileSync(rsa, other);
    chmodSync(rsa, 0o640);
    const replaced = f.hashes().rsa;
    const apply = await f.run(["apply", "plan.json"]);
    expect(apply.code).toBe(1);
    expect(apply.stdout).toContain("k1: error: stale plan: k1 changed since the plan; nothing was written on it");
    expect(mode(rsa)).toBe(0o640);
    expect(f.hashes().rsa).toBe(replaced);
    expect((await f.run(["apply", "--yes"])).code).toBe(0);
    expect(mode(rsa)).toBe(0o600);
    expect(f.hashes().rsa).toBe(replaced);
  });

  it(`${what}: no line of any private key it has had is in any output or saved plan`, () => {
    expect(f.privateKeys.size).toBe(4);
    expectNoPrivateKey(f, [readFileSync(path.join(f.dir, "plan.json"), "utf8")]);
  });
});

describe("under each shell", () => {
  it.each(SHELLS)("$name: generated on a sandbox host, published, then no changes", async (shell) => {
    const f = keyFleet("sandbox");
    const env = { MAILFLEET_LOCAL_SHELL: shell.env };
    const apply = await f.run(["apply", "--yes"], env);
    expect(apply.code, apply.stderr).toBe(0);
    expect((await f.run(["plan", "--detailed-exitcode"], env)).code).toBe(0);
    const keys = await published(f);
    expect(keys.map((k) => k.public)).toEqual([opensslPublic(path.join(f.keys, "rsa.key")).pem, dkimRecord(path.join(f.keys, "ed25519.key"))]);
    f.hashes();
    expectNoPrivateKey(f);
  });
});

describe("through Terraform", () => {
  const SECRET_ENV = "MF_E2E_TLS_KEY";
  const tlsKey = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } }).privateKey;
  const transcript: string[] = [];
  let f: KeyFleet;
  let stack: string;
  const tf = (args: string[]) => terraform(stack, args, { [SECRET_ENV]: tlsKey }, transcript);
  const allFiles = (d: string): string[] =>
    existsSync(d) ? readdirSync(d).flatMap((name) => (statSync(path.join(d, name)).isDirectory() ? allFiles(path.join(d, name)) : [path.join(d, name)])) : [];

  beforeAll(() => {
    f = keyFleet("sandbox", `, tlsKey: { env: ${SECRET_ENV} }`);
    stack = path.join(f.dir, "cdktf.out/stacks/mailfleet");
  });

  it("the stack applies the keys and a PEM secret from the environment; the next terraform plan is empty", async () => {
    const exec = TEST_KEYS_CLI.map(shq).join(" ");
    const synth = await f.run(["synth", "--out", "cdktf.out", "--exec", exec]);
    expect(synth.code, synth.stderr).toBe(0);
    expect((await tf(["init", "-input=false"])).code).toBe(0);
    const plan = await tf(["plan", "-detailed-exitcode", "-input=false", "-out=tfplan"]);
    expect(plan.code, plan.stderr).toBe(2);
    expect((await tf(["show", "-json", "tfplan"])).code).toBe(0);
    const apply = await tf(["apply", "-input=false", "tfplan"]);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/terraform_data\.k1 \(local-exec\): k1: applied 4 changes, verified/);
    expect(readFileSync(path.join(f.keys, "tls.key"), "utf8")).toBe(tlsKey);
    f.hashes();
    const again = await tf(["plan", "-detailed-exitcode", "-input=false"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("No changes.");
    const keys = await published(f, { [SECRET_ENV]: tlsKey });
    expect(keys.map((k) => k.present)).toEqual([true, true]);
  });

  it("neither the PEM secret nor a generated private key is in the stack's JSON, its plan, its state or terraform's output", async () => {
    const pulled = await tf(["state", "pull"]);
    expect(pulled.code).toBe(0);
    expect(JSON.parse(pulled.stdout).resources).toHaveLength(1);
    const files = [...allFiles(path.join(f.dir, "cdktf.out")), ...readdirSync(f.dir).filter((name) => name.includes("tfstate")).map((name) => path.join(f.dir, name))];
    expect(files.some((p) => p.endsWith("cdk.tf.json"))).toBe(true);
    expect(files.some((p) => p.endsWith("tfplan"))).toBe(true);
    expect(files.some((p) => p.endsWith("terraform.mailfleet.tfstate"))).toBe(true);
    const forms = [...secretForms("pem", Buffer.from(tlsKey)), ...[...f.privateKeys].flatMap((k) => secretForms("pem", Buffer.from(k)))];
    expect(f.privateKeys.size).toBe(2);
    // tfplan is a zip: its content was read through terraform show -json, which is in the transcript
    for (const p of files) for (const form of forms) expect(readFileSync(p).includes(form), `${p} holds a line of a secret`).toBe(false);
    expect(transcript.length).toBeGreaterThan(5);
    for (const t of [...transcript, pulled.stdout, ...f.printed]) for (const form of forms) expect(t.includes(form)).toBe(false);
  });
});
