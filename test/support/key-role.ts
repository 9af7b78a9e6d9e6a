// A role for tests only, never registered in roles/index.ts: the shapes of
// secrets and the keys generated on the host, as a DKIM or TLS role would
// declare them. Its settings (testKeys:) name a directory; in it it keeps
// two keys generated with the host's openssl (RSA 2048 with its public half
// as PEM, Ed25519 with its public half as a DKIM record) and writes the
// secrets it is given: a PEM key, a PEM certificate chain (0640 to a group)
// and a DER blob. testKeysCli runs the mailfleet command with it registered.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { z } from "zod";
import { defineRole } from "../../roles/types.ts";
import { absolutePath, binarySecret, loginName, pemSecret } from "../../src/inventory/fields.ts";
import { secretFile } from "../../src/resources/file.ts";
import type { Resource } from "../../src/resources/types.ts";
import { sh } from "../../src/shell/builder.ts";
import { REPO, type CliResult } from "./cli.ts";

export const testKeysSettings = z.strictObject({
  dir: absolutePath,
  /** The group the certificate chain is readable by (0640). */
  group: loginName.optional(),
  tlsKey: pemSecret.optional(),
  chain: pemSecret.optional(),
  der: binarySecret.optional(),
});

export const testKeys = defineRole({
  name: "test-keys",
  summary: "tests only: keys generated on the host, PEM and binary secrets",
  sections: { testKeys: testKeysSettings },
  platforms: { debian: {}, smartos: {}, freebsd: {} },
  resources(host, ctx) {
    const cfg = host.testKeys!;
    const at = (name: string) => `${cfg.dir}/${name}`;
    const res: Resource[] = [
      { kind: "directory", id: "test-keys:dir", path: cfg.dir, mode: 0o750, owner: "root", group: cfg.group ?? "root" },
      {
        kind: "generatedKey",
        id: "test-keys:rsa",
        path: at("rsa.key"),
        mode: 0o600,
        owner: "root",
        group: "root",
        description: "test key (RSA 2048)",
        generate: sh`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"`,
        publicHalf: sh`openssl pkey -in "$1" -pubout`,
      },
      {
        kind: "generatedKey",
        id: "test-keys:ed25519",
        path: at("ed25519.key"),
        mode: 0o600,
        owner: "root",
        group: "root",
        description: "test DKIM key (Ed25519)",
        generate: sh`openssl genpkey -algorithm ed25519 -out "$1"`,
        // RFC 8463: the DKIM record's p= is the 32 bytes of the raw public key, the tail of its DER
        publicHalf: sh`mf_p=$(openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | openssl base64 -A) && printf 'v=DKIM1; k=ed25519; p=%s\\n' "$mf_p"`,
      },
    ];
    if (cfg.tlsKey) res.push(secretFile({ id: "test-keys:tls-key", path: at("tls.key"), pem: cfg.tlsKey, owner: "root", group: "root" }, ctx.secrets));
    if (cfg.chain) res.push(secretFile({ id: "test-keys:chain", path: at("chain.pem"), pem: cfg.chain, mode: 0o640, owner: "root", group: cfg.group ?? "root" }, ctx.secrets));
    if (cfg.der) res.push(secretFile({ id: "test-keys:der", path: at("key.der"), binary: cfg.der, owner: "root", group: "root" }, ctx.secrets));
    return res;
  },
});

/** The command testKeysCli runs: node with tsx, the sources and this role registered (absolute, so a Terraform stack can run it from anywhere). */
export const TEST_KEYS_CLI = [
  process.execPath,
  "--import",
  pathToFileURL(path.join(REPO, "node_modules/tsx/dist/loader.mjs")).href,
  path.join(REPO, "test/support/key-role-cli.ts"),
];

/** The mailfleet command, from the sources, with the test-keys role registered beside the real ones. */
export async function testKeysCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const r = await execa(TEST_KEYS_CLI[0]!, [...TEST_KEYS_CLI.slice(1), ...args], { cwd: opts.cwd ?? REPO, env: { NO_COLOR: "1", ...opts.env }, input: "", reject: false });
  return { code: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
