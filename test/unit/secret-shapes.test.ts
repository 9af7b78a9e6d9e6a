// Secrets that are not one line (PEM keys and chains, binary blobs): how
// each source gives them, what is refused (never quoting the value), and
// what output is scrubbed of.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { binarySecret, pemSecret, secretRef } from "../../src/inventory/fields.ts";
import {
  MASK,
  maskingResolver,
  readSecret,
  readSecretBytes,
  revealingResolver,
  scrub,
  SECRET_MAX_BYTES,
  secretForms,
} from "../../src/inventory/secrets.ts";

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
    const ref = fileRef(ed.privateKey);
    const first = resolver.bytes!(ref, "pem");
    writeFileSync(ref.file, rsa.privateKey);
    expect(resolver.bytes!(ref, "pem")).toBe(first);
    expect(resolver.revealed()).toEqual(secretForms("pem", first));
    expect(maskingResolver.bytes!(ref, "binary").toString()).toBe(MASK);
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
