// A satellite rendered and applied by mailfleet relays to a hub that wants
// STARTTLS and AUTH; both are real Postfix instances of Debian's package on
// loopback, the hub relays on to smtp-sink, where the message is counted.
// Mail for root goes to adminaddr, any other recipient to recipientCanonical.
import { execSync } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { stripVTControlCharacters } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postfixSatellite } from "../../roles/postfix-satellite/index.ts";
import { hostContext } from "../../src/engine/desired.ts";
import { roleResources } from "../../src/engine/roles.ts";
import { applyHost, planHost, type HostTarget } from "../../src/engine/host.ts";
import { formatPlan } from "../../src/cli/report.ts";
import { parseInventory, type HostConfig } from "../../src/engine/inventory.ts";
import { revealingResolver } from "../../src/inventory/secrets.ts";
import type { HostContext } from "../../src/resources/types.ts";
import { LocalTransport } from "../../src/transports/local.ts";
import {
  ensurePostfixAccounts,
  freePort,
  instanceData,
  instancePlatform,
  mainCfLines,
  POSTFIX_LIB,
  postfixInstance,
  postfixTool,
  type PostfixInstance,
} from "../support/postfix.ts";
import { startSmtpSink, type SmtpSink } from "../support/smtp-sink.ts";
import { waitFor } from "../support/wait.ts";

const GOOD = "c0rrect horse;battery 'staple'";
let sink: SmtpSink;
let hub: PostfixInstance;
let sat: PostfixInstance;
let hubPort: number;
let satPort: number;
let host: HostConfig;
let passwordFile: string;

function target(): HostTarget {
  const platform = instancePlatform(sat);
  const ctx: HostContext = hostContext(platform, "");
  // Postfix is unpacked, not installed (it conflicts with nullmailer here), and the
  // switch from nullmailer has its own test: packages and the handover are left out.
  const resources = roleResources(postfixSatellite, host, { platform, data: instanceData(sat), secrets: revealingResolver(host.inventoryDir) }).filter(
    (r) => r.kind !== "package" && r.kind !== "mtaHandover" && r.kind !== "parkedMail",
  );
  return { host, transport: new LocalTransport(), ctx, resources };
}

/** Plans and applies with `shell` running the scripts (the shells hosts have: dash, ksh93, busybox sh). */
async function apply(shell: string) {
  process.env.MAILFLEET_LOCAL_SHELL = shell;
  const t = target();
  const plan = await planHost(t);
  const result = await applyHost(t, plan).catch((e: Error & { detail?: string }) => {
    throw new Error(`${e.message}\n${e.detail ?? ""}\n${sat.log()}`);
  });
  expect(result.remaining).toEqual([]);
  // as printed, without colours (picocolors turns them on when CI is set)
  return { plan, result, text: stripVTControlCharacters(formatPlan(plan, [])) };
}

const message = (subject: string) => `Subject: ${subject}\nFrom: Cron Daemon <root>\nTo: root\n\nmailfleet relay test\n`;

beforeAll(async () => {
  process.env.LD_LIBRARY_PATH = POSTFIX_LIB;
  await ensurePostfixAccounts();
  sink = await startSmtpSink();

  hub = postfixInstance("hub");
  hubPort = await freePort();
  execSync(`openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=hub.test -keyout ${hub.dir}/key.pem -out ${hub.dir}/cert.pem 2>/dev/null`);
  // Debian's smtpd reads its Cyrus config from $config_directory/sasl/smtpd.conf
  execSync(`mkdir -p ${hub.conf}/sasl`);
  writeFileSync(
    `${hub.conf}/sasl/smtpd.conf`,
    `pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: ${hub.dir}/sasldb2\n`,
  );
  execSync(`saslpasswd2 -p -c -f ${hub.dir}/sasldb2 -u hub.test relay-user`, { input: GOOD });
  execSync(`chown postfix ${hub.dir}/sasldb2`);
  writeFileSync(
    path.join(hub.conf, "main.cf"),
    `${mainCfLines({
      compatibility_level: "3.6",
      myhostname: "hub.test",
      mydestination: "",
      inet_interfaces: "127.0.0.1",
      // loopback is not a trusted network here: the satellite must authenticate
      mynetworks: "192.0.2.1/32",
      relayhost: `[127.0.0.1]:${sink.port}`,
      smtpd_tls_cert_file: `${hub.dir}/cert.pem`,
      smtpd_tls_key_file: `${hub.dir}/key.pem`,
      smtpd_tls_security_level: "may",
      smtpd_tls_auth_only: "yes",
      smtpd_sasl_auth_enable: "yes",
      smtpd_sasl_type: "cyrus",
      smtpd_sasl_path: "smtpd",
      cyrus_sasl_config_path: `${hub.conf}/sasl`,
      alias_maps: "",
      smtpd_sasl_local_domain: "hub.test",
      smtpd_relay_restrictions: "permit_sasl_authenticated, reject",
      ...hub.settings,
    })}\n`,
  );
  hub.writeMasterCf(`127.0.0.1:${hubPort}`);
  await hub.start();

  sat = postfixInstance("satellite");
  satPort = await freePort();
  // a bare port: where smtpd listens is decided by the role's inet_interfaces
  sat.writeMasterCf(String(satPort));
  passwordFile = path.join(sat.dir, "relay-password");
  writeFileSync(passwordFile, "wrong-password\n");
  const instance = Object.entries(sat.settings)
    .map(([k, v]) => `${k}: "${v}"`)
    .join(", ");
  host = parseInventory(
    `
defaults: { domain: example.org, adminaddr: ops@example.org }
hosts:
  pi:
    platform: debian
    roles: [postfix-satellite]
    relay:
      host: 127.0.0.1
      port: ${hubPort}
      tls: starttls
      caFile: ${hub.dir}/cert.pem
      auth: { user: relay-user, password: { file: ${passwordFile} } }
    postfix:
      senderCanonical: static
      recipientCanonical: admin@example.org
      replyTo: admin@example.org
      mainCf: { ${instance}, smtp_tls_loglevel: 1 }
`,
    path.join(sat.dir, "inventory.yaml"),
  ).hosts[0]!;
}, 120_000);

afterAll(async () => {
  delete process.env.MAILFLEET_LOCAL_SHELL;
  if (process.env.MF_SHOW_LOGS) console.log(`satellite:\n${sat?.log()}\nhub:\n${hub?.log()}`);
  await sat?.stop();
  await hub?.stop();
  await sink?.stop();
});

describe("postfix-satellite against a hub with STARTTLS and AUTH", () => {
  it("applies, keeps the password map private and listens on loopback only", async () => {
    const { plan } = await apply("busybox sh");
    const ids = plan.changes.map((c) => c.id);
    expect(ids).toEqual(
      expect.arrayContaining(["postfix:main.cf", "postfix:sasl_passwd", "postfix:postmap-sasl_passwd", "postfix:service"]),
    );
    expect(plan.changes.find((c) => c.id === "postfix:service")!.action).toBe("start");
    for (const f of ["sasl_passwd", "sasl_passwd.db"]) {
      const st = statSync(path.join(sat.conf, f));
      expect({ f, mode: (st.mode & 0o777).toString(8), uid: st.uid }).toEqual({ f, mode: "600", uid: 0 });
    }
    const listening = execSync("ss -ltnH", { encoding: "utf8" })
      .split("\n")
      .map((l) => l.trim().split(/\s+/)[3])
      .filter((a): a is string => !!a && a.endsWith(`:${satPort}`));
    expect(listening.length).toBeGreaterThan(0);
    for (const a of listening) expect(a).toMatch(/^(127\.0\.0\.1|\[::1\]):\d+$/);

    process.env.MAILFLEET_LOCAL_SHELL = "/usr/bin/dash";
    const again = await planHost(target());
    expect(again.changes).toEqual([]);
  });

  it("keeps mail deferred with a wrong password, delivers it once the password is fixed and applied", async () => {
    expect(await sat.sendmail(["-i", "--", "root"], message("relay-test-1"))).toBe(0);
    await waitFor("the hub to refuse the wrong password", () => /SASL authentication failed/.test(sat.log()), 30_000);
    await waitFor("the message to be deferred", () => /status=deferred/.test(sat.log()), 30_000);
    expect(sat.queued()).toHaveLength(1);
    expect(sink.messages()).toHaveLength(0);

    writeFileSync(passwordFile, `${GOOD}\n`);
    const applying = Date.now();
    const { plan, text } = await apply("/usr/bin/ksh93");
    expect(plan.changes.map((c) => `${c.id} ${c.action}`)).toEqual([
      "postfix:sasl_passwd update",
      "postfix:postmap-sasl_passwd run",
      "postfix:service reload",
      "postfix:flush run",
    ]);
    // only the password changed: with it masked on both sides there is nothing to show
    expect(text).toContain("sasl_passwd: sensitive content changed (not shown)");
    expect(text).not.toContain("horse");
    expect(text).not.toContain("wrong-password");
    await waitFor("the message at the far end", () => sink.messages().length === 1, 30_000);
    console.log(`deferred message at the far end ${Date.now() - applying} ms after the apply with the fixed password began`);
    expect(sat.queued()).toHaveLength(0);

    const [dump] = sink.messages();
    expect(dump).toMatch(/X-Mail-Args: <pi@example\.org>$/m);
    // mail for root (a local user) goes to adminaddr; recipientCanonical takes every other recipient (below)
    expect(dump).toMatch(/X-Rcpt-Args: <ops@example\.org> /m);
    expect(dump).toMatch(/^Reply-To: admin@example\.org$/m);
    expect(dump).toMatch(/^Subject: relay-test-1$/m);
    expect(dump).toMatch(/^From: Cron Daemon <pi@example\.org>$/m);
    // the hub took it authenticated, over TLS
    expect(dump).toMatch(/by hub\.test \(Postfix\) with ESMTPSA/);
    expect(sat.log()).toMatch(/Trusted TLS connection established|Untrusted TLS connection established/);
  });

  it("rewrites any sender, local or foreign, to <host>@<domain>", async () => {
    const start = Date.now();
    expect(await sat.sendmail(["-i", "-f", "backup@foreign.example", "--", "someone@elsewhere.example"], message("relay-test-2"))).toBe(0);
    await waitFor("the second message at the far end", () => sink.messages().length === 2, 30_000);
    console.log(`second message relayed in ${Date.now() - start} ms`);
    const dump = sink.messages().find((m) => m.includes("relay-test-2"))!;
    expect(dump).toMatch(/X-Mail-Args: <pi@example\.org>$/m);
    expect(dump).toMatch(/X-Rcpt-Args: <admin@example\.org> /m);
    expect(dump).toMatch(/^Reply-To: admin@example\.org$/m);
    const check = await postfixTool("postqueue", ["-c", sat.conf, "-p"]);
    expect(check.stdout).toMatch(/Mail queue is empty/);
  });
});
