// Secrets that are not one line (PEM keys and chains, binary blobs): how
// each source gives them, what is refused (never quoting the value), what
// output is scrubbed of, and the file resource that writes one: 0600 unless
// asked 0640, no line of it in any diff, its bytes exactly.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hostContext } from "../../src/engine/desired.ts";
import type { BinarySecretRef, PemSecretRef } from "../../src/inventory/fields.ts";
import { binarySecret, pemSecret, secretRef } from "../../src/inventory/fields.ts";
import { builtinTransports } from "../../src/inventory/schema.ts";
import {
  MASK,
  maskingResolver,
  readSecret,
  readSecretBytes,
  revealingResolver,
  scrub,
  SECRET_MAX_BYTES,
  secretForms,
  type SecretResolver,
} from "../../src/inventory/secrets.ts";
import { parseInventory, secretEnvNames } from "../../src/inventory/load.ts";
import { debian } from "../../src/platforms/debian.ts";
import { fileHandler, secretFile } from "../../src/resources/file.ts";
import type { FileResource, HostContext } from "../../src/resources/types.ts";
import { testKeys } from "../support/key-role.ts";

const dir = mkdtempSync(path.join(os.tmpdir(), "mf-secret-shapes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const opts = { cwd: dir };
let n = 0;
/** A file in the temp directory holding `bytes`, as a { file } reference. */
const fileRef = (bytes: string | Buffer) => {
  const p = path.join(dir, `s${++n}`);
  writeFileSync(p, bytes);
  return { file: p };
};

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
const ed = generateKeyPairSync("ed25519", { publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
const chain = `${rsa.publicKey}${ed.publicKey}`;
const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** What a message may never hold: any base64 line of the key. */
const keyLines = (pem: string) => pem.split("\n").filter((l) => l && !l.startsWith("-----"));

describe("PEM secrets", () => {
  it("come from a file, a command or the environment as they are, with a final line end", () => {
    expect(readSecretBytes(fileRef(rsa.privateKey), "pem", opts).toString()).toBe(rsa.privateKey);
    expect(readSecretBytes({ command: `cat ${fileRef(chain).file}` }, "pem", opts).toString()).toBe(chain);
    process.env.MF_UNIT_PEM = ed.privateKey.trimEnd();
    try {
      expect(readSecretBytes({ env: "MF_UNIT_PEM" }, "pem", opts).toString()).toBe(ed.privateKey);
    } finally {
      delete process.env.MF_UNIT_PEM;
    }
  });

  it("keep CR LF line ends, text around the blocks (Bag Attributes) and an encrypted key's headers", () => {
    const crlf = rsa.privateKey.replace(/\n/g, "\r\n");
    expect(readSecretBytes(fileRef(crlf), "pem", opts).toString()).toBe(crlf);
    const bag = `Bag Attributes\n    friendlyName: mail.example.org\n${ed.privateKey}`;
    expect(readSecretBytes(fileRef(bag), "pem", opts).toString()).toBe(bag);
    const encrypted = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF\n\nQUJDRA==\n-----END RSA PRIVATE KEY-----\n";
    expect(readSecretBytes(fileRef(encrypted), "pem", opts).toString()).toBe(encrypted);
  });

  const refused: [string, string | Buffer, RegExp][] = [
    ["a password", "hunter2-but-longer\n", /is not PEM: it has no -----BEGIN \.\.\.----- and -----END \.\.\.----- lines/],
    ["mismatched labels", rsa.privateKey.replace("END PRIVATE KEY", "END PUBLIC KEY"), /a PEM block begins as PRIVATE KEY and ends as PUBLIC KEY/],
    ["a body that is not base64", rsa.privateKey.replace(/\n[A-Za-z0-9+/]{10}/, "\n%%%%%%%%%%"), /its PRIVATE KEY block is not base64/],
    ["a block without its END line", `${ed.privateKey}-----BEGIN CERTIFICATE-----\nQUJDRA==\n`, /a PEM block has no matching END line/],
    ["a NUL byte", `${ed.privateKey}\0`, /holds a control character; PEM is text/],
    ["bytes that are not UTF-8", Buffer.concat([Buffer.from(ed.privateKey), Buffer.from([0xff])]), /is not UTF-8 text \(PEM is text\)/],
    ["more than 64 KiB", `${ed.privateKey}${"#".repeat(SECRET_MAX_BYTES)}`, /larger than 64 KiB; a PEM key or certificate chain is a few KiB/],
    ["nothing", "", /is empty/],
  ];
  it.each(refused)("%s: refused, naming the source and never quoting the value", (_what, bytes, message) => {
    const ref = fileRef(bytes);
    let error: Error | undefined;
    try {
      readSecretBytes(ref, "pem", opts);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.name).toBe("SecretError");
    expect(error!.message).toMatch(message);
    expect(error!.message).toContain(ref.file);
    for (const l of keyLines(rsa.privateKey).concat(keyLines(ed.privateKey))) expect(error!.message).not.toContain(l);
  });

  it("are a password's refusal when read as one: a password stays one line", () => {
    expect(() => readSecret(fileRef(rsa.privateKey), opts)).toThrow(/spans several lines; a password must be one line/);
  });
});

describe("binary secrets", () => {
  it("come byte for byte from a file and a command, none trimmed (a final 0x0a is part of them)", () => {
    const bytes = Buffer.concat([randomBytes(1000), every, Buffer.from("\n")]);
    const ref = fileRef(bytes);
    expect(readSecretBytes(ref, "binary", opts).equals(bytes)).toBe(true);
    expect(readSecretBytes({ command: `cat '${ref.file}'` }, "binary", opts).equals(bytes)).toBe(true);
  });

  it("come from the environment in base64, and nothing else is taken there", () => {
    process.env.MF_UNIT_BIN = `${every.toString("base64").replace(/(.{60})/g, "$1\n")}\n`;
    process.env.MF_UNIT_NOT_B64 = "this is not base64!";
    try {
      expect(readSecretBytes({ env: "MF_UNIT_BIN" }, "binary", opts).equals(every)).toBe(true);
      expect(() => readSecretBytes({ env: "MF_UNIT_NOT_B64" }, "binary", opts)).toThrow(
        "environment variable MF_UNIT_NOT_B64 (a binary secret) is not base64; an environment variable cannot hold every byte, so a binary secret is given there in base64",
      );
    } finally {
      delete process.env.MF_UNIT_BIN;
      delete process.env.MF_UNIT_NOT_B64;
    }
  });

  it("are at most 64 KiB, exactly, from a file and from a command, and never empty", () => {
    const most = randomBytes(SECRET_MAX_BYTES);
    expect(readSecretBytes(fileRef(most), "binary", opts).length).toBe(SECRET_MAX_BYTES);
    expect(() => readSecretBytes(fileRef(Buffer.concat([most, Buffer.from([0])])), "binary", opts)).toThrow(/larger than 64 KiB; a binary key is a few KiB/);
    expect(() => readSecretBytes({ command: `head -c ${SECRET_MAX_BYTES + 1} /dev/zero` }, "binary", opts)).toThrow(/printed more than 64 KiB; it was stopped/);
    expect(() => readSecretBytes(fileRef(""), "binary", opts)).toThrow(/is empty/);
  });
});

describe("what output is scrubbed of", () => {
  it("every base64 line of a PEM secret and each block on one line, so a line in a JSON string or a diff is masked too", () => {
    const forms = secretForms("pem", Buffer.from(chain));
    const lines = keyLines(chain);
    for (const l of lines.filter((x) => x.length >= 16)) expect(forms).toContain(l);
    expect(forms).toContain(keyLines(rsa.publicKey).join(""));
    const json = JSON.stringify({ diff: `+${lines[2]}`, whole: chain });
    const clean = scrub(json, forms);
    for (const l of lines.filter((x) => x.length >= 16)) expect(clean).not.toContain(l);
  });

  it("a binary secret's base64 and hex; forms shorter than 16 characters are left alone (they would garble output)", () => {
    const b = randomBytes(48);
    expect(secretForms("binary", b)).toEqual([b.toString("base64"), b.toString("hex")]);
    expect(secretForms("binary", Buffer.from([1, 2, 3]))).toEqual([]);
  });

  it("the revealing resolver reads each once and reveals its forms; the masking one gives the placeholder", () => {
    const resolver = revealingResolver(dir);
    const file = fileRef(ed.privateKey);
    const ref = file as PemSecretRef;
    const first = resolver.bytes!(ref, "pem");
    writeFileSync(file.file, rsa.privateKey);
    expect(resolver.bytes!(ref, "pem")).toBe(first);
    expect(resolver.revealed()).toEqual(secretForms("pem", first));
    expect(maskingResolver.bytes!(ref as unknown as BinarySecretRef, "binary").toString()).toBe(MASK);
    // @ts-expect-error a PEM field read as binary is a type error
    expect(() => resolver.bytes!(ref, "binary")).not.toThrow();
  });
});

describe("schemas of the shapes", () => {
  it("take the same references as a password's and describe the shape", () => {
    for (const ref of [{ env: "X" }, { file: "k.pem" }, { command: "pass show k" }]) {
      expect(pemSecret.parse(ref)).toEqual(secretRef.parse(ref));
      expect(binarySecret.parse(ref)).toEqual(ref);
    }
    expect(pemSecret.description).toMatch(/PEM text \(a private key, a certificate chain\), at most 64 KiB/);
    expect(binarySecret.description).toMatch(/any bytes .* an environment variable holds them in base64/);
    expect(() => pemSecret.parse({ file: "k.pem", mode: "0600" })).toThrow();
  });
});

describe("secretFile: a file that is a PEM or binary secret", () => {
  const real = (values: Record<string, Buffer>): SecretResolver => ({
    value: () => "",
    bytes: (ref) => values[(ref as { env: string }).env]!,
    revealed: () => [],
  });
  const pem = { env: "PEM" } as PemSecretRef;
  const bin = { env: "BIN" } as BinarySecretRef;
  const resolver = real({ PEM: Buffer.from(rsa.privateKey), BIN: every });
  const ctx: HostContext = hostContext(debian, "");

  it("is 0600 and sensitive without a mask, or 0640 when asked; looser modes are refused", () => {
    const f = secretFile({ id: "k", path: "/etc/k.pem", pem, owner: "root", group: "root" }, resolver);
    expect(f).toEqual({ kind: "file", id: "k", path: "/etc/k.pem", mode: 0o600, owner: "root", group: "root", sensitive: true, content: rsa.privateKey });
    expect(secretFile({ id: "c", path: "/etc/c.pem", pem, mode: 0o640, group: "mail" }, resolver).mode).toBe(0o640);
    for (const mode of [0o644, 0o660, 0o700, 0o604]) {
      expect(() => secretFile({ id: "k", path: "/etc/k.pem", pem, mode }, resolver)).toThrow(/k: a file holding a secret is 0600, or 0640 to a group, at most; 0\d{3} lets others read or change it/);
    }
  });

  it("carries binary bytes in base64; the masking resolver gives the placeholder as text", () => {
    const f = secretFile({ id: "d", path: "/etc/k.der", binary: bin }, resolver);
    expect(f).toMatchObject({ encoding: "base64", content: every.toString("base64") });
    expect(secretFile({ id: "d", path: "/etc/k.der", binary: bin }, maskingResolver)).toMatchObject({ content: MASK, sensitive: true, mode: 0o600 });
    expect(secretFile({ id: "d", path: "/etc/k.der", binary: bin }, maskingResolver).encoding).toBeUndefined();
    expect(() => secretFile({ id: "d", path: "/etc/k.der", binary: bin }, { value: () => "x", revealed: () => [] })).toThrow(
      "d: this secret resolver reads passwords only, not binary secrets",
    );
  });

  /** What mf_probe_secret prints for a file holding `bytes`. */
  const probed = (bytes: Buffer, mode = "-rw-------") => [`f ${mode} root root ${bytes.length}`, `id 1234 ${bytes.length} 2026-01-01 00:00:00.000000000 +0000`, ...(bytes.toString("hex").match(/.{1,32}/g) ?? []).map((h) => `~${h}`)];

  it("diffs without a line of either side: created, changed, unchanged", () => {
    const f: FileResource = secretFile({ id: "k", path: "/etc/k.pem", pem }, resolver);
    const created = fileHandler.diff(f, ["missing"], ctx, new Set())!;
    expect(created).toMatchObject({ action: "create", summary: "create /etc/k.pem (0600)", diff: "/etc/k.pem: sensitive content (not shown)" });
    const changed = fileHandler.diff(f, probed(Buffer.from(ed.privateKey)), ctx, new Set())!;
    expect(changed).toMatchObject({ action: "update", diff: "/etc/k.pem: sensitive content changed (not shown)" });
    expect(fileHandler.diff(f, probed(Buffer.from(rsa.privateKey)), ctx, new Set())).toBeNull();
    for (const c of [created, changed]) for (const l of [...keyLines(rsa.privateKey), ...keyLines(ed.privateKey)]) expect(JSON.stringify(c)).not.toContain(l);
  });

  it("compares and writes binary content by its bytes", () => {
    const f = secretFile({ id: "d", path: "/etc/k.der", binary: bin }, resolver);
    expect(fileHandler.diff(f, probed(every), ctx, new Set())).toBeNull();
    const changed = fileHandler.diff(f, probed(Buffer.from(every).reverse()), ctx, new Set())!;
    expect(changed.diff).toBe("/etc/k.der: sensitive content changed (not shown)");
    expect(fileHandler.diff(f, probed(every, "-rw-r--r--"), ctx, new Set())!.summary).toBe("update /etc/k.der (mode 0644 -> 0600)");
    const script = fileHandler.apply(f, changed, ctx).sh;
    expect(script).toContain("\\0376\\0377' || mf_fail");
    expect(script).not.toContain(every.toString("base64"));
  });
});

describe("the loader takes PEM and binary secrets for secrets", () => {
  // the test-only role's sections, in a catalog of its own (src/inventory knows no role)
  const catalog = { platforms: ["debian"], transports: builtinTransports, roles: [{ name: "test-keys", sections: testKeys.sections, platforms: ["debian"] }] };
  const inventory = (testKeysSettings: string) =>
    `defaults: { domain: example.org }\nhosts:\n  k1: { platform: debian, roles: [test-keys], testKeys: { dir: /etc/k, ${testKeysSettings} }, transport: { type: local, root: sandbox } }\n`;
  const file = path.join(dir, "inventory.yaml");

  it("resolves a { file } against the inventory, refuses a missing one, and withholds { env } variables", () => {
    writeFileSync(path.join(dir, "tls.pem"), ed.privateKey);
    const [host] = parseInventory(inventory("tlsKey: { file: tls.pem }, der: { env: MF_UNIT_DER }"), file, catalog).hosts;
    expect((host!.testKeys as { tlsKey: { file: string } }).tlsKey.file).toBe(path.join(dir, "tls.pem"));
    expect(secretEnvNames([host!])).toEqual(["MF_UNIT_DER"]);
    expect(() => parseInventory(inventory("chain: { file: missing.pem }"), file, catalog)).toThrow(/testKeys\.chain\.file: secret file \S+missing\.pem does not exist/);
  });

  it("refuses a { command } under --untrusted, as for a password", () => {
    expect(() => parseInventory(inventory('der: { command: "cat k.der" }'), file, catalog, { untrusted: true })).toThrow(/testKeys\.der\.command: a secret command is refused under --untrusted/);
  });
});
