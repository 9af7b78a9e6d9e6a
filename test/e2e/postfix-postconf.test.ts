// Every main.cf the role renders must pass Debian's postconf without a
// warning: a misspelt parameter shows as "unused parameter".
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pLimit from "p-limit";
import { afterAll, describe, expect, it } from "vitest";
import { POSTFIX_37_PARAMETERS } from "../../roles/lib/postfix/parameters.ts";
import { postfixSatellite } from "../../roles/postfix-satellite/index.ts";
import { roleResources } from "../../src/engine/roles.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { loadInventory } from "../../src/engine/inventory.ts";
import { InventoryError } from "../../src/inventory/errors.ts";
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
    const cf = renderMainCf(host("{ host: hub.example.org }", "{ mainCf: { smtp_tls_loglevel: 1 } }")).replace("smtp_tls_loglevel = 1", "smtp_tls_securty_level = may");
    const r = await postconf(cf);
    expect(r.warnings.join("\n")).toMatch(/unused parameter: smtp_tls_securty_level=may/);
  });
});

describe("postfix.mainCf and hub.mainCf names are Postfix's, checked at validate", () => {
  it("the list of Postfix 3.7's parameters is what the real postconf -d prints", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mf-postconf-"));
    dirs.push(dir);
    copyFileSync(path.join(POSTFIX_ROOT, "usr/share/postfix/master.cf.dist"), path.join(dir, "master.cf"));
    writeFileSync(path.join(dir, "main.cf"), "");
    const r = await postfixTool("postconf", ["-c", dir, "-d"]);
    expect(r.code).toBe(0);
    const names = r.stdout.split("\n").filter(Boolean).map((l) => l.split(" ")[0]);
    expect([...POSTFIX_37_PARAMETERS].sort()).toEqual([...new Set(names)].sort());
  });

  it("refuses a name Postfix does not know, at its line, with the name it is closest to; refuses braces in an address main.cf holds", () => {
    expect(() => renderMainCf(host("{ host: hub.example.org }", "{ mainCf: { smtp_tls_securty_level: may } }"))).toThrow(
      /inline\.yaml:\d+:\d+: hosts\.h1\.postfix\.mainCf\.smtp_tls_securty_level: Postfix has no parameter smtp_tls_securty_level \(postconf -d of Postfix 3\.7 lists every one\); did you mean smtp_tls_security_level\?/,
    );
    expect(() => renderMainCf(host("{ host: hub.example.org }", "{ mainCf: { bogus_parameter: 1 } }"))).toThrow(/hosts\.h1\.postfix\.mainCf\.bogus_parameter: Postfix has no parameter bogus_parameter/);
    expect(() => renderMainCf(host("{ host: hub.example.org }", '{ recipientCanonical: "{admin}@example.org" }'))).toThrow(
      /hosts\.h1\.postfix\.recipientCanonical: "\{admin\}@example\.org" is not allowed; an address without \{ or \} \(main\.cf reads them as grouping/,
    );
  });

  it("a parameter of one's own passes where another setting uses it, as postconf sees it", async () => {
    const cf = renderMainCf(host("{ host: hub.example.org }", '{ mainCf: { my_helo: "mx.example.org", smtp_helo_name: "$my_helo" } }'));
    expect((await postconf(`${cf}mydomain = example.org\n`)).warnings).toEqual([]);
    expect(() => renderMainCf(host("{ host: hub.example.org }", '{ mainCf: { my_helo: "mx.example.org" } }'))).toThrow(/postfix\.mainCf\.my_helo: Postfix has no parameter my_helo/);
  });
});

/** Values a user may write in postfix.mainCf: the tricky ones by hand, then every short mix of the tokens of Postfix's macro syntax. */
function mainCfCorpus(): string[] {
  const byHand = [
    "{", "}", "$x", "${x}", "$(x)", "${myhostname}", "$myhostname", "${x?y}", "${myhostname?y}", "${myhostname:{a b}}", "{a b}", "a $", "$$", "${",
    "$(myhostname", "a } b", "{ a { b } }", "${myhostname?{$mydomain}}", "$myhostname.x", "$my_custom", "x$", "$1", "${a-b}", "${myhostname==x?a:b}",
    "${{$myhostname} == {x} ? {a} : {b}}", "${myhostname?$x}", "${myhostname?{a}", "${myhostname?{a}}x}", "$(myhostname?a)", "${ myhostname}",
    "${myhostname ? a}", "$my-host", "$myhostname$", "{{a}", "{}", "{ ${x} }", "a{b", "${myhostname?}", "${?a}", "$()", "${}", "100$$", "$(touch /tmp/x)",
    "$compatibility_level", "${relayhost:none}", "$config_directory/x", "resource, software", ":{", "a, {b", ";{", "x={", "$$$", "{ ${x} }", "a {b} c",
  ];
  const tokens = ["$", "$$", "{", "}", "(", ")", "myhostname", "x", "?", ":", " ", "${", "$(", "my_custom"];
  const mixes: string[] = [];
  // every mix of up to 2 tokens, and a deterministic sample of 3- and 4-token mixes
  for (const a of tokens) for (const b of ["", ...tokens]) mixes.push(a + b);
  for (let i = 0; i < 200; i++) mixes.push([0, 1, 2, 3].slice(0, 3 + (i % 2)).map((k) => tokens[(i * 7 + k * 5 + ((i * k) % 11)) % tokens.length]).join(""));
  return [...new Set([...byHand, ...mixes])].filter((v) => v.trim() !== "");
}

describe("postfix.mainCf values are checked against Postfix's grammar at validate", () => {
  const withValue = (v: string) =>
    host("{ host: hub.example.org }", `{ mainCf: { my_custom: "defined here", smtp_helo_name: ${JSON.stringify(v)}, smtp_tls_loglevel: "$my_custom" } }`);

  it("every value accepted passes the real postconf; every value refused fails it (a warning or an error)", async () => {
    const corpus = mainCfCorpus();
    const mismatches: string[] = [];
    let accepted = 0;
    const limit = pLimit(32); // postconf mostly waits here (about 2 s a run)
    await Promise.all(corpus.map((v) => limit(async () => {
      let cf: string;
      let refused: string | undefined;
      try {
        cf = renderMainCf(withValue(v));
      } catch (e) {
        if (!(e instanceof InventoryError)) throw e;
        refused = e.problems.map((p) => p.message).join("; ");
        expect(e.problems.every((p) => p.field.endsWith("postfix.mainCf.smtp_helo_name")), refused).toBe(true);
        // the same main.cf, the value written as it stands
        cf = renderMainCf(withValue("ok")).replace("smtp_helo_name = ok", () => `smtp_helo_name = ${v}`);
      }
      // mydomain set: postconf would otherwise look it up in the DNS (2 s each, offline)
      const r = await postconf(`${cf}mydomain = example.org\n`);
      const fails = r.code !== 0 || r.warnings.length > 0;
      if (refused === undefined) accepted++;
      if (fails !== (refused !== undefined)) mismatches.push(`${JSON.stringify(v)}: mailfleet ${refused ? `refuses (${refused})` : "accepts"}, postconf ${fails ? `fails: ${r.warnings.join(" ") || r.stderr}` : "passes"}`);
    })));
    console.info(`mainCf grammar: ${corpus.length} values, ${accepted} accepted, ${corpus.length - accepted} refused, ${mismatches.length} disagreements with postconf`);
    expect(mismatches).toEqual([]);
  }, 240_000);

  it("the refusal names the file, line and field", () => {
    expect(() => renderMainCf(withValue("${x}"))).toThrow(/inline\.yaml:\d+:\d+: hosts\.h1\.postfix\.mainCf\.smtp_helo_name: \$x is no Postfix parameter and is not set in main\.cf; Postfix would refuse this main\.cf/);
  });
});
