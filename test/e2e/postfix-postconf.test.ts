// Every main.cf the role renders must pass Debian's postconf without a
// warning: a misspelt parameter shows as "unused parameter".
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { postfixSatellite } from "../../roles/postfix-satellite/index.ts";
import { roleResources } from "../../src/engine/roles.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { loadInventory } from "../../src/engine/inventory.ts";
import type { SecretResolver } from "../../src/inventory/secrets.ts";
import { debian } from "../../src/platforms/debian.ts";
import type { FileResource } from "../../src/resources/types.ts";
import { POSTFIX_ROOT, REPO } from "../support/cli.ts";
import { postfixTool } from "../support/postfix.ts";

const secrets: SecretResolver = { value: () => "pw", revealed: () => ["pw"] };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function renderMainCf(yaml: string, host = "h1"): string {
  const h = parseInventory(yaml, path.join(REPO, "test/e2e/inline.yaml")).hosts.find((x) => x.name === host)!;
  const rs = roleResources(postfixSatellite, h, { platform: debian, secrets });
  return rs.find((r): r is FileResource => r.kind === "file" && r.path === "/etc/postfix/main.cf")!.content;
}

async function postconf(mainCf: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-postconf-"));
  dirs.push(dir);
  copyFileSync(path.join(POSTFIX_ROOT, "usr/share/postfix/master.cf.dist"), path.join(dir, "master.cf"));
  writeFileSync(path.join(dir, "main.cf"), mainCf);
  const r = await postfixTool("postconf", ["-c", dir, "-n"]);
  const warnings = `${r.stdout}\n${r.stderr}`.split("\n").filter((l) => l.includes("warning:"));
  return { ...r, warnings };
}

const host = (relay: string, postfix = "") => `
hosts:
  h1:
    platform: debian
    domain: example.org
    roles: [postfix-satellite]
    relay: ${relay}
${postfix ? `    postfix: ${postfix}` : ""}
`;

const CONFIGS: Record<string, string> = {
  "no options": host("{ host: hub.example.org }"),
  "every option": host(
    "{ host: hub.example.org, port: 465, tls: tls, caFile: /etc/ssl/certs/ca-certificates.crt, auth: { user: u, password: { env: PW } } }",
    `{ compatibilityLevel: "3.6", myhostname: h1.lan.example.org, myorigin: example.org, senderCanonical: static,
       recipientCanonical: admin@example.org, replyTo: admin@example.org, tlsLevel: secure, mapType: lmdb,
       senderAuth: { "backup@example.org": { user: bk, password: { env: BK } } },
       genericMaps: { root: "h1@example.org", "@h1.lan": "h1@example.org" },
       mainCf: { message_size_limit: 20480000, smtputf8_enable: false } }`,
  ),
  "extra settings": host(
    "{ host: 192.0.2.25, port: 587, tls: starttls, auth: { user: u, password: { env: PW } } }",
    `{ mainCf: { smtp_helo_name: "$myhostname", smtp_tls_loglevel: 1, maximal_queue_lifetime: 2d, smtp_tls_note_starttls_offer: true,
       disable_vrfy_command: true, notify_classes: "resource, software" } }`,
  ),
};

describe("postconf -c DIR -n accepts every rendered main.cf", () => {
  for (const [name, yaml] of Object.entries(CONFIGS)) {
    it(name, async () => {
      const cf = renderMainCf(yaml);
      const r = await postconf(cf);
      expect(r.warnings).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("relayhost = [");
      expect(r.stdout).toContain("inet_interfaces = loopback-only");
    });
  }

  it("the demo fleet's satellite", async () => {
    const pi = loadInventory(path.join(REPO, "examples/sandbox-fleet.yaml")).hosts.find((h) => h.name === "pi")!;
    const cf = roleResources(postfixSatellite, pi, { platform: debian, secrets }).find((r): r is FileResource => r.kind === "file" && r.path === "/etc/postfix/main.cf")!;
    const r = await postconf(cf.content);
    expect(r.warnings).toEqual([]);
    expect(r.stdout).toContain("sender_canonical_maps = static:pi");
  });

  it("catches a misspelt parameter (the check can fail)", async () => {
    const cf = renderMainCf(host("{ host: hub.example.org }", "{ mainCf: { smtp_tls_securty_level: may } }"));
    const r = await postconf(cf);
    expect(r.warnings.join("\n")).toMatch(/unused parameter: smtp_tls_securty_level=may/);
  });
});
