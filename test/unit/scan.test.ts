// The scan host's roles without a host: what opensmtpd renders (the LMTP
// action, the filter, the tables, the relay networks computed like the hub's),
// the store host's LMTP restriction, the rules across hosts, and the plan when
// the store host changes (one line of inventory, both sides' diffs).
import { createHash } from "node:crypto";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { dovecot } from "../../roles/dovecot/index.ts";
import { canonicalAddress, lmtpClientKey } from "../../roles/dovecot/lmtp.ts";
import { relayNetworks } from "../../roles/lib/mail/networks.ts";
import { opensmtpd } from "../../roles/opensmtpd/index.ts";
import { opensmtpdQueue } from "../../roles/opensmtpd/queue.ts";
import { opensmtpdPlatforms } from "../../roles/opensmtpd/platforms.ts";
import { requiredAliases } from "../../roles/lib/mail/required.ts";
import { mailOf } from "../../roles/lib/mail/model.ts";
import { relayNetworks as hubNetworks } from "../../roles/postfix-hub/networks.ts";
import { hostContext, desiredState } from "../../src/engine/desired.ts";
import { parseInventory, type HostConfig } from "../../src/engine/inventory.ts";
import { diffHost } from "../../src/engine/plan.ts";
import { roleResources } from "../../src/engine/roles.ts";
import { maskingResolver, type SecretResolver } from "../../src/inventory/secrets.ts";
import { debian } from "../../src/platforms/debian.ts";
import type { Change, FileResource, Resource } from "../../src/resources/types.ts";
import { REPO } from "../support/cli.ts";
import { inventoryErrors } from "../support/inventory-errors.ts";

const INV = path.join(REPO, "test/unit/inline.yaml");
// hashes are not what these tests are about (test/unit/hub.test.ts is): the masked resolver computes none
const secrets: SecretResolver = maskingResolver;

const MAIL = `defaults:
  domain: example.org
  adminaddr: root@example.org
  mail:
    domains:
      example.org: { users: { admin: { password: { env: X } } }, aliases: { root: admin, postmaster: admin } }
      one.example:
        users: { bob: { password: { env: X } }, alice: { password: { env: X } } }
        aliases: { team: [bob, alice, someone@else.example] }
      two.example: { users: { bob: { password: { env: X } } } }
`;
const TLS = "{ cert: /etc/ssl/mail.pem, key: /etc/ssl/private/mail.key }";
const store = (name: string, address: string) => `
  ${name}: { platform: debian, roles: [dovecot], address: ${address}, dovecot: { tls: ${TLS} } }`;

function fleet(opts: { store?: string; scan?: string; more?: string } = {}): HostConfig[] {
  return parseInventory(
    `${MAIL}hosts:
  scan1:
    platform: debian
    roles: [rspamd, opensmtpd]
    address: 10.0.0.5
    opensmtpd: { store: ${opts.store ?? "store1"}, smugglingRisk: accepted${opts.scan ?? ""} }${store("store1", "10.0.0.7")}${store("store2", "10.0.0.8")}
  web1: { platform: smartos, roles: [nullmailer], address: 10.0.0.11, relay: { host: scan1 } }
  db1: { platform: debian, roles: [postfix-satellite], transport: { type: ssh, address: 10.0.0.12 }, relay: { host: scan1.example.org } }
${opts.more ?? ""}`,
    INV,
  ).hosts;
}

const byName = (hosts: HostConfig[], name: string) => hosts.find((h) => h.name === name)!;
const files = (hosts: HostConfig[], name: string): FileResource[] => desiredState(byName(hosts, name), secrets, hosts).filter((r): r is FileResource => r.kind === "file");
const fileAt = (hosts: HostConfig[], name: string, p: string) => files(hosts, name).find((f) => f.path === p)!;

const errors = inventoryErrors;

const perms = (mode: number) => `-${[6, 3, 0].map((s) => ((mode >> s) & 7)).map((b) => `${b & 4 ? "r" : "-"}${b & 2 ? "w" : "-"}${b & 1 ? "x" : "-"}`).join("")}`;
/** What the probe would print for a host holding exactly these files. */
function factsOf(resources: readonly Resource[]): Map<string, string[]> {
  const facts = new Map<string, string[]>();
  for (const r of resources) {
    if (r.kind !== "file" || r.state === "absent") continue;
    facts.set(r.id, [`f ${perms(r.mode)} ${r.owner} ${r.group} ${Buffer.byteLength(r.content)}`, Buffer.from(r.content).toString("hex")]);
  }
  return facts;
}
const ctx = hostContext(debian, "");
/** The file changes of `name` from the desired state of `before` to that of `after`. */
function fileChanges(before: HostConfig[], after: HostConfig[], name: string): Change[] {
  const was = desiredState(byName(before, name), secrets, before).filter((r) => r.kind === "file");
  const now = desiredState(byName(after, name), secrets, after).filter((r) => r.kind === "file");
  return diffHost(now, factsOf(was), ctx);
}
const changedLines = (c: Change | undefined) => (c?.diff ?? "").split("\n").filter((l) => /^[-+](?![-+])/.test(l));

describe("role opensmtpd", () => {
  it("delivers each recipient over its own LMTP transaction to the store host, never over `relay host lmtp://`", () => {
    const conf = fileAt(fleet(), "scan1", "/etc/smtpd.conf").content;
    expect(conf).toMatch(/^action "store" lmtp "10\.0\.0\.7:24" rcpt-to virtual <vusers>$/m);
    expect(conf).not.toMatch(/^action .*relay host lmtp/m);
    expect(conf).toMatch(/^match from any for rcpt-to <recipients> action "store"\nmatch from any for domain <domains> reject$/m);
    expect(conf).toMatch(/^filter "rspamd" proc-exec "\/usr\/libexec\/opensmtpd\/filter-rspamd -url http:\/\/127\.0\.0\.1:11333"$/m);
    expect(conf).toMatch(/^listen on 0\.0\.0\.0 port 25 hostname scan1\.example\.org filter "intake"\nlisten on :: port 25 hostname scan1\.example\.org filter "intake"$/m);
    expect(conf).toMatch(/^filter "intake" chain \{ "guard", "fleet-senders", "served-senders", "rspamd" \}$/m);
    // Debian's OpenSMTPD cannot do STARTTLS (see platforms.ts): no pki there
    expect(conf).not.toMatch(/pki|tls/);
  });

  it("accepts the mailboxes and aliases of mail: (a list without spaces), mailboxes delivered as the mail owner", () => {
    const hosts = fleet();
    expect(fileAt(hosts, "scan1", "/etc/smtpd/recipients").content.split("\n").slice(1, -1)).toEqual([
      "admin@example.org",
      "alice@one.example",
      "bob@one.example",
      "bob@two.example",
      "postmaster@example.org",
      // none in mail: for one.example, two.example and the host's own name: adminaddr's (roles/lib/mail/required.ts)
      "postmaster@one.example",
      "postmaster@scan1.example.org",
      "postmaster@two.example",
      "root@example.org",
      "team@one.example",
    ]);
    expect(fileAt(hosts, "scan1", "/etc/smtpd/vusers").content).toMatch(/^bob@two\.example vmail\n(.|\n)*^team@one\.example bob@one\.example,alice@one\.example,someone@else\.example$/m);
    expect(fileAt(hosts, "scan1", "/etc/smtpd/local-aliases").content).toMatch(/^@ root@example\.org$/m);
  });

  it("relays for the fleet's computed networks: the same computation as the hub's mynetworks, in OpenSMTPD's notation", () => {
    const hosts = fleet({ scan: ", networks: [192.0.2.0/28, 2001:db8::/48]" });
    const table = fileAt(hosts, "scan1", "/etc/smtpd/relay-clients").content;
    expect(table.split("\n").filter((l) => l && !l.startsWith("#"))).toEqual(["127.0.0.1/32", "::1/128", "10.0.0.11/32", "10.0.0.12/32", "192.0.2.0/28", "2001:db8::/48"]);
    expect(table).toMatch(/^#   10\.0\.0\.12\/32   db1$/m);
    // a hub with the same clients computes the same list, spelt for Postfix
    const scan = byName(hosts, "scan1");
    const same = relayNetworks(scan, hosts, { networks: ["192.0.2.0/28", "2001:db8::/48"], label: "x" }, (c) => c);
    expect(same.entries).toEqual(table.split("\n").filter((l) => l && !l.startsWith("#")));
    const hub = { ...scan, roles: ["postfix-hub"], hub: { networks: ["192.0.2.0/28", "2001:db8::/48"] } };
    expect(hubNetworks(hub, hosts).mynetworks).toEqual(["127.0.0.1/32", "[::1]/128", "10.0.0.11/32", "10.0.0.12/32", "192.0.2.0/28", "[2001:db8::]/48"]);
    // adding a satellite adds exactly its address
    const more = fleet({ more: "  web2: { platform: smartos, roles: [nullmailer], address: 10.0.0.13, relay: { host: 10.0.0.5 } }\n" });
    expect(changedLines(fileChanges(fleet(), more, "scan1").find((c) => c.id === "opensmtpd:relay-clients"))).toEqual(["+#   10.0.0.13/32  web2", "+10.0.0.13/32"]);
  });

  it("is checked by smtpd -n -f before any restart, and changed tables are reloaded with smtpctl instead of a restart", () => {
    const all = desiredState(byName(fleet(), "scan1"), secrets, fleet());
    const service = all.find((r) => r.id === "opensmtpd:service");
    expect(service).toMatchObject({ kind: "service", name: "opensmtpd", onChange: "restart", inputs: ["opensmtpd:smtpd.conf", "opensmtpd:mailname", "opensmtpd:guard.awk"] });
    expect(service!.kind === "service" && service!.check!.sh).toMatch(/\/usr\/sbin\/smtpd -n -f \/etc\/smtpd\.conf/);
    const update = all.find((r) => r.id === "opensmtpd:update-tables");
    expect(update).toMatchObject({ kind: "command", inputs: ["opensmtpd:domains", "opensmtpd:recipients", "opensmtpd:vusers", "opensmtpd:relay-clients", "opensmtpd:local-aliases", "opensmtpd:served-senders"] });
  });

  it("is an MTA: it hands nullmailer's or Postfix's queue over, and its own queue is counted with smtpctl and flushed with schedule all (its routes resumed first)", () => {
    const all = desiredState(byName(fleet(), "scan1"), secrets, fleet());
    const ids = all.map((r) => r.id);
    expect(ids.indexOf("opensmtpd:replace-nullmailer")).toBeLessThan(ids.indexOf("opensmtpd:package"));
    expect(ids.indexOf("opensmtpd:replace-postfix")).toBeLessThan(ids.indexOf("opensmtpd:package"));
    expect(ids.at(-1)).toBe("opensmtpd:deliver-parked");
    const q = opensmtpdQueue(opensmtpdPlatforms.debian);
    expect(q.count.sh).toBe(`mf_os_count /usr/sbin/smtpctl "$R"/var/spool/smtpd`);
    expect(q.flush.sh).toBe("mf_os_flush /usr/sbin/smtpctl");
    expect(q.sendmail).toEqual(["/usr/sbin/sendmail"]);
    // and the other MTA roles hand their queue over to it
    const nm = parseInventory(`${MAIL}hosts:\n  z: { platform: debian, roles: [nullmailer], relay: { host: x.example } }\n`, INV).hosts;
    expect(desiredState(nm[0]!, secrets, nm).map((r) => r.id)).toContain("nullmailer:replace-opensmtpd");
  });

  it("renders FreeBSD's paths: /usr/local/etc/mail, the smtpd rc.d service, STARTTLS with the inventory's certificate, mailwrapper", () => {
    const hosts = fleet({ more: `  jail1:
    platform: freebsd
    roles: [rspamd, opensmtpd]
    address: 10.0.0.6
    opensmtpd: { store: store1, tls: { cert: /usr/local/etc/ssl/mx.pem, key: /usr/local/etc/ssl/mx.key }, listen: [10.0.0.6], smugglingRisk: accepted }
` });
    const all = desiredState(byName(hosts, "jail1"), secrets, hosts);
    const conf = (all.find((r) => r.id === "opensmtpd:smtpd.conf") as FileResource).content;
    expect(conf).toMatch(/^pki jail1\.example\.org cert "\/usr\/local\/etc\/ssl\/mx\.pem"$/m);
    expect(conf).toMatch(/^listen on 10\.0\.0\.6 port 25 tls pki jail1\.example\.org hostname jail1\.example\.org filter "intake"$/m);
    expect(conf).toMatch(/^table vusers file:\/usr\/local\/etc\/mail\/smtpd\/vusers$/m);
    expect(conf).toMatch(/proc-exec "\/usr\/local\/libexec\/opensmtpd\/filter-rspamd -url/);
    expect(all.find((r) => r.id === "opensmtpd:service")).toMatchObject({ name: "smtpd" });
    expect((all.find((r) => r.id === "opensmtpd:mailer.conf") as FileResource).content).toMatch(/^sendmail\t\/usr\/local\/sbin\/smtpctl$/m);
    expect(all.find((r) => r.id === "opensmtpd:mail-owner")).toMatchObject({ user: "vmail", home: "/var/empty" });
  });
});

describe("the store host's LMTP listener", () => {
  it("is bound to the store's address and lets in only the scan host: its recipients are looked up under the client's key", () => {
    const hosts = fleet();
    const conf = fileAt(hosts, "store1", "/etc/dovecot/dovecot.conf").content;
    expect(conf).toMatch(/# Delivery: scan1 \(10\.0\.0\.5\) over TCP\nservice lmtp \{\n  inet_listener lmtp \{\n    address = 10\.0\.0\.7\n    port = 24/);
    expect(conf).toMatch(/^protocol lmtp \{\n  userdb \{\n    driver = passwd-file\n    args = username_format=%\{if;%\{rip\};eq;;local;%\{sha256:rip\}\}\/%Lu \/etc\/dovecot\/lmtp-clients\n    result_failure = return-fail\n    result_internalfail = return-fail\n/m);
    const clients = fileAt(hosts, "store1", "/etc/dovecot/lmtp-clients");
    const key = createHash("sha256").update("10.0.0.5").digest("hex");
    expect(clients.content).toMatch(new RegExp(`^# ${key} = 10\\.0\\.0\\.5 \\(scan1\\)$`, "m"));
    expect(clients.content).toMatch(new RegExp(`^${key}/bob@two\\.example::5000:5000::/var/vmail/two\\.example/bob::$`, "m"));
    expect(clients.content).not.toMatch(/BLF-CRYPT|\$2b\$/);
    expect(clients).toMatchObject({ mode: 0o640, owner: "root", group: "dovecot" });
    // no client, no listener: the other store has neither
    expect(fileAt(hosts, "store2", "/etc/dovecot/dovecot.conf").content).not.toMatch(/inet_listener lmtp|protocol lmtp/);
    expect(fileAt(hosts, "store2", "/etc/dovecot/lmtp-clients").state).toBe("absent");
  });

  it("keys a client by its address as Dovecot prints it: IPv6 in its shortest form", () => {
    expect(canonicalAddress("2001:0DB8:0:0:0:0:0:5")).toBe("2001:db8::5");
    expect(lmtpClientKey("2001:db8:0::5")).toBe(createHash("sha256").update("2001:db8::5").digest("hex"));
    expect(lmtpClientKey("10.0.0.5")).toBe(createHash("sha256").update("10.0.0.5").digest("hex"));
  });

  it("with Postfix on the same host, its unix socket is a client too (key 'local'), and dovecot.lmtp.clients adds MTAs outside the inventory", () => {
    const hosts = parseInventory(
      `${MAIL}hosts:
  mx1:
    platform: debian
    roles: [postfix-hub, dovecot]
    address: 10.0.0.7
    dovecot: { tls: ${TLS}, lmtp: { clients: [192.0.2.25] } }
  scan1: { platform: debian, roles: [opensmtpd], address: 10.0.0.5, opensmtpd: { store: mx1, filter: none, smugglingRisk: accepted } }
`,
      INV,
    ).hosts;
    const clients = fileAt(hosts, "mx1", "/etc/dovecot/lmtp-clients").content;
    expect(clients.split("\n").filter((l) => l.startsWith("# ") && l.includes(" = "))).toEqual([
      "# local = the MTA on this host over the unix socket",
      `# ${lmtpClientKey("10.0.0.5")} = 10.0.0.5 (scan1)`,
      `# ${lmtpClientKey("192.0.2.25")} = 192.0.2.25 (dovecot.lmtp.clients)`,
    ]);
    expect(clients).toMatch(/^local\/bob@one\.example::/m);
  });

  it("changing the store host is one line of inventory, and the plan shows both sides change", () => {
    const before = fleet({ store: "store1" });
    const after = fleet({ store: "store2" });
    const scan = fileChanges(before, after, "scan1");
    expect(scan.map((c) => `${c.id} ${c.action}`)).toEqual(["opensmtpd:smtpd.conf update"]);
    expect(changedLines(scan[0])).toEqual([
      "-# SMTP session and handed to Dovecot on store1 over LMTP; this host",
      "+# SMTP session and handed to Dovecot on store2 over LMTP; this host",
      '-action "store" lmtp "10.0.0.7:24" rcpt-to virtual <vusers>',
      '+action "store" lmtp "10.0.0.8:24" rcpt-to virtual <vusers>',
    ]);
    const old = fileChanges(before, after, "store1");
    expect(old.map((c) => `${c.id} ${c.action}`)).toEqual(["dovecot:dovecot.conf update", "dovecot:lmtp-clients delete"]);
    expect(changedLines(old[0])).toEqual(expect.arrayContaining(["-# Delivery: scan1 (10.0.0.5) over TCP", "+# Delivery: no MTA is known to deliver here", "-    address = 10.0.0.7", "-protocol lmtp {"]));
    const fresh = fileChanges(before, after, "store2");
    expect(fresh.map((c) => `${c.id} ${c.action}`)).toEqual(["dovecot:dovecot.conf update", "dovecot:lmtp-clients create"]);
    expect(changedLines(fresh[0])).toEqual(expect.arrayContaining(["+# Delivery: scan1 (10.0.0.5) over TCP", "+    address = 10.0.0.8", "+protocol lmtp {"]));
    // nothing else in the fleet changes
    for (const h of ["web1", "db1"]) expect(fileChanges(before, after, h)).toEqual([]);
  });
});

describe("rules of the scan side", () => {
  it("needs a store: another host of the inventory with Dovecot and the same mailboxes", () => {
    expect(errors(() => fleet({ store: "nowhere" }))).toMatch(/inline\.yaml:\d+:\d+: hosts\.scan1\.opensmtpd\.store: opensmtpd\.store names nowhere, which is no host of this inventory/);
    expect(errors(() => fleet({ store: "web1" }))).toMatch(/opensmtpd\.store names web1, which offers no mail store: give it a role that does \(dovecot\)/);
    expect(errors(() => fleet({ store: "scan1" }))).toMatch(/opensmtpd\.store names this host/);
    const other = errors(() =>
      fleet({ more: "  store3: { platform: debian, roles: [dovecot], address: 10.0.0.9, dovecot: { tls: { cert: /a, key: /b } }, mail: { domains: { three.example: { users: { carol: { password: { env: X } } } } } } }\n  scan2: { platform: debian, roles: [opensmtpd], address: 10.0.0.10, opensmtpd: { store: store3, filter: none, smugglingRisk: accepted } }\n" }),
    );
    expect(other).toMatch(/mail\.domains: scan2 and its store store3 have different mail\.domains users/);
  });

  it("refuses STARTTLS on Debian's OpenSMTPD 6.8 with the reason, and requires it on FreeBSD", () => {
    expect(errors(() => fleet({ scan: `, tls: ${TLS}` }))).toMatch(/hosts\.scan1\.opensmtpd\.tls: opensmtpd\.tls cannot be used on platform debian: Debian 12's OpenSMTPD 6\.8\.0p2 with OpenSSL 3 fails every STARTTLS handshake/);
    expect(errors(() => fleet({ more: "  jail1: { platform: freebsd, roles: [opensmtpd], address: 10.0.0.6, opensmtpd: { store: store1, filter: none, smugglingRisk: accepted } }\n" }))).toMatch(
      /hosts\.jail1\.opensmtpd: role opensmtpd listens with STARTTLS: set opensmtpd\.tls/,
    );
  });

  it("scans with rspamd on the host or at rspamdUrl; filter-rspamd cannot reach a unix socket", () => {
    const noRspamd = (scan: string) => `${MAIL}hosts:${store("store1", "10.0.0.7")}\n  scan1: { platform: debian, roles: [opensmtpd], address: 10.0.0.5, opensmtpd: { store: store1, smugglingRisk: accepted${scan} } }\n`;
    expect(errors(() => parseInventory(noRspamd(""), INV))).toMatch(/role opensmtpd scans every message: give this host a role that offers a scanner \(rspamd\), or set opensmtpd\.rspamdUrl/);
    const remote = parseInventory(noRspamd(", rspamdUrl: http://10.0.0.20:11333"), INV).hosts;
    expect(fileAt(remote, "scan1", "/etc/smtpd.conf").content).toMatch(/-url http:\/\/10\.0\.0\.20:11333"/);
    expect(fileAt(remote, "scan1", "/etc/smtpd.conf").content).toMatch(/^listen on 0\.0\.0\.0 port 25 hostname scan1\.example\.org filter "intake"$/m);
    const off = parseInventory(noRspamd(", filter: none"), INV).hosts;
    // without rspamd: no filter-rspamd, and the guard looks at MAIL FROM only (body lines go through smtpd alone)
    expect(fileAt(off, "scan1", "/etc/smtpd.conf").content).not.toMatch(/filter-rspamd|"rspamd"|scan=1/);
    expect(fileAt(off, "scan1", "/etc/smtpd.conf").content).toMatch(/^filter "intake" chain \{ "guard", "fleet-senders", "served-senders" \}$/m);
    expect(desiredState(byName(off, "scan1"), secrets, off).map((r) => r.id)).not.toContain("opensmtpd:package-filter");
    const socket = `${MAIL}hosts:${store("store1", "10.0.0.7")}\n  scan1: { platform: debian, roles: [rspamd, opensmtpd], address: 10.0.0.5, rspamd: { listen: /run/rspamd/normal.sock }, opensmtpd: { store: store1, smugglingRisk: accepted } }\n`;
    expect(errors(() => parseInventory(socket, INV))).toMatch(/hosts\.scan1\.opensmtpd: the scanner on this host listens on the unix socket \/run\/rspamd\/normal\.sock, and filter-rspamd reaches it over HTTP only/);
    expect(errors(() => parseInventory(noRspamd(", rspamdUrl: 'http://x:1/$(reboot)'"), INV))).toMatch(/opensmtpd\.rspamdUrl: .*http:\/\/host:port/);
  });

  it("needs the scan host's address (the store lets it in by that) and every relay client's, placed at those hosts", () => {
    const inv = `${MAIL}hosts:${store("store1", "10.0.0.7")}
  scan1: { platform: debian, roles: [opensmtpd], transport: { type: ssh, address: scan1.example.org }, opensmtpd: { store: store1, filter: none, smugglingRisk: accepted } }
  web9: { platform: smartos, roles: [nullmailer], relay: { host: scan1 } }
`;
    const msg = errors(() => parseInventory(inv, INV));
    expect(msg).toMatch(/hosts\.scan1: scan1 delivers to store1 over LMTP\/TCP, .* scan1's address is unknown; set address:/);
    expect(msg).toMatch(/hosts\.web9: host web9 relays through scan1, .* web9's address is unknown/);
  });

  it("refuses what its outbound relay cannot do, and a relay naming the host itself", () => {
    expect(errors(() => fleet({ more: "  scan2: { platform: debian, roles: [opensmtpd], address: 10.0.0.10, opensmtpd: { store: store1, filter: none, smugglingRisk: accepted }, relay: { host: scan2.example.org } }\n" }))).toMatch(
      /hosts\.scan2\.relay\.host: relay\.host names scan2 itself/,
    );
    const auth = "  scan2: { platform: debian, roles: [opensmtpd], address: 10.0.0.10, opensmtpd: { store: store1, filter: none, smugglingRisk: accepted }, relay: { host: smtp.example.net, port: 587, tls: starttls, auth: { user: u, password: { env: P } } } }\n";
    expect(errors(() => fleet({ more: auth }))).toMatch(/hosts\.scan2\.relay\.auth: role opensmtpd does not relay with authentication yet/);
    const ok = fleet({ more: auth.replace(/, auth: \{[^}]*\} \}/, "") });
    expect(fileAt(ok, "scan2", "/etc/smtpd.conf").content).toMatch(/^action "outbound" relay host smtp\+tls:\/\/smtp\.example\.net:587$/m);
  });

  it("refuses an adminaddr of the scan host itself (its own mail is forwarded there)", () => {
    expect(errors(() => fleet({ more: "  scan2: { platform: debian, roles: [opensmtpd], address: 10.0.0.10, adminaddr: root@scan2.example.org, opensmtpd: { store: store1, filter: none, smugglingRisk: accepted } }\n" }))).toMatch(
      /hosts\.scan2\.adminaddr: adminaddr root@scan2\.example\.org is an address of this scan host/,
    );
  });

  it("refuses dovecot.lmtp when no MTA may deliver there", () => {
    const inv = `${MAIL}hosts:\n  store1: { platform: debian, roles: [dovecot], address: 10.0.0.7, dovecot: { tls: ${TLS}, lmtp: { port: 2424 } } }\n`;
    expect(errors(() => parseInventory(inv, INV))).toMatch(/hosts\.store1\.dovecot\.lmtp: dovecot\.lmtp opens LMTP over TCP, but no MTA may deliver there/);
  });

  it("never puts a password hash into lmtp-clients", () => {
    const hosts = fleet();
    const real: SecretResolver = { value: () => "pw", revealed: () => ["pw"] };
    const all = roleResources(dovecot, byName(hosts, "store1"), { secrets: real, fleet: hosts }) as FileResource[];
    expect(all.find((r) => r.id === "dovecot:passwd-file")!.content).toMatch(/\$2b\$/);
    expect(all.find((r) => r.id === "dovecot:lmtp-clients")!.content).not.toMatch(/\$2b\$|BLF/);
    expect(roleResources(opensmtpd, byName(hosts, "scan1"), { secrets: real, fleet: hosts }).some((r) => JSON.stringify(r).includes("pw"))).toBe(false);
  });

  it("listens beyond loopback only with opensmtpd.smugglingRisk: accepted, naming why, on debian and freebsd; loopback needs none", () => {
    const scan = (settings: string) => `${MAIL}hosts:${store("store1", "10.0.0.7")}\n  scan1: { platform: debian, roles: [opensmtpd], address: 10.0.0.5, opensmtpd: { store: store1, filter: none${settings} } }\n`;
    expect(errors(() => parseInventory(scan(""), INV))).toMatch(
      /inline\.yaml:\d+:\d+: hosts\.scan1\.opensmtpd: opensmtpd listens on 0\.0\.0\.0, :: \(the default: every address\), beyond loopback, and on debian Debian 12's OpenSMTPD 6\.8\.0p2 takes a bare LF for a line end and a dot after one .* \(SMTP smuggling, CVE-2023-51764\); listen on loopback only, or set opensmtpd\.smugglingRisk: accepted/,
    );
    expect(errors(() => parseInventory(scan(", listen: [127.0.0.1, 10.0.0.5]"), INV))).toMatch(/hosts\.scan1\.opensmtpd\.listen: opensmtpd listens on 10\.0\.0\.5, beyond loopback/);
    expect(() => parseInventory(scan(", listen: [127.0.0.1, '::1']"), INV)).not.toThrow();
    expect(errors(() => parseInventory(scan(", smugglingRisk: yes"), INV))).toMatch(/hosts\.scan1\.opensmtpd\.smugglingRisk: "yes" is not allowed; allowed: accepted/);
    const jail = "  jail1: { platform: freebsd, roles: [opensmtpd], address: 10.0.0.6, opensmtpd: { store: store1, filter: none, tls: { cert: /a, key: /b } } }\n";
    expect(errors(() => fleet({ more: jail }))).toMatch(/hosts\.jail1\.opensmtpd: .*on freebsd the ports' OpenSMTPD 7\.x takes a bare LF/);
  });

  it("validates maxMessageSize (64k to 4G, bytes or k, M, G) and outsideServedSenders; hostile values refused at their line", () => {
    for (const bad of ["'35M; rm -rf /'", "0", "1.5", "5T", "63k", "5G", "'1e9'", "'35 M'", "'\\n35M'"]) {
      expect([bad, errors(() => fleet({ scan: `, maxMessageSize: ${bad}` }))]).toEqual([bad, expect.stringMatching(/inline\.yaml:\d+:\d+: hosts\.scan1\.opensmtpd\.maxMessageSize: .*(a size: a whole number of bytes|from 64k to 4G|not one of the allowed forms: a whole number or a string)/)]);
    }
    expect(fileAt(fleet({ scan: ", maxMessageSize: 10M" }), "scan1", "/etc/smtpd.conf").content).toMatch(/^smtp max-message-size 10485760$/m);
    expect(fileAt(fleet({ scan: ", maxMessageSize: 65536" }), "scan1", "/etc/smtpd.conf").content).toMatch(/^smtp max-message-size 65536$/m);
    expect(fileAt(fleet({ scan: ", maxMessageSize: 4G" }), "scan1", "/etc/smtpd.conf").content).toMatch(/-v size_max=4294967296 /);
    expect(errors(() => fleet({ scan: ", outsideServedSenders: 'yes'" }))).toMatch(/hosts\.scan1\.opensmtpd\.outsideServedSenders: /);
    const open = fleet({ scan: ", outsideServedSenders: true" });
    expect(fileAt(open, "scan1", "/etc/smtpd.conf").content).toMatch(/^filter "intake" chain \{ "guard", "rspamd" \}$/m);
    expect(fileAt(open, "scan1", "/etc/smtpd.conf").content).not.toMatch(/served-senders/);
    expect(files(open, "scan1").map((f) => f.path)).not.toContain("/etc/smtpd/served-senders");
    expect(fileAt(fleet(), "scan1", "/etc/smtpd/served-senders").content.split("\n").filter((l) => l && !l.startsWith("#"))).toEqual(["@example.org", "@one.example", "@two.example"]);
  });

  it("computes postmaster for every served domain without one (and for the host's names): adminaddr", () => {
    const mail = mailOf({
      domains: {
        "a.example": { users: { postmaster: { password: { env: "X" } } } },
        "b.example": { users: { bob: { password: { env: "X" } } }, aliases: { postmaster: "bob" } },
        "c.example": { users: { carol: { password: { env: "X" } } } },
        "d.example": {},
      },
    });
    const served = "RFC 5321: postmaster of every domain served";
    const own = "this host's own name: its cron mail and bounces";
    expect(requiredAliases(mail, "root@admin.example", ["mx.c.example", "MX.example", "d.example"], ["postmaster"])).toEqual([
      { address: "postmaster@c.example", targets: ["root@admin.example"], added: served },
      { address: "postmaster@d.example", targets: ["root@admin.example"], added: served },
      { address: "postmaster@mx.c.example", targets: ["root@admin.example"], added: own },
      { address: "postmaster@mx.example", targets: ["root@admin.example"], added: own },
    ]);
    expect(requiredAliases(mail, undefined, ["mx.example"], ["postmaster"])).toEqual([]);
    // never an address pointed at itself
    expect(requiredAliases(mail, "postmaster@c.example", [], ["postmaster"]).map((a) => a.address)).toEqual(["postmaster@d.example"]);
    const vusers = fileAt(fleet(), "scan1", "/etc/smtpd/vusers").content;
    expect(vusers).toMatch(/^postmaster@example\.org admin@example\.org$/m);
    expect(vusers).toMatch(/^postmaster@one\.example root@example\.org\npostmaster@scan1\.example\.org root@example\.org\npostmaster@two\.example root@example\.org$/m);
  });

  it("restarts smtpd whenever it exits by itself where systemd runs it (Debian: a drop-in and daemon-reload); nothing on FreeBSD", () => {
    const hosts = fleet();
    const all = desiredState(byName(hosts, "scan1"), secrets, hosts);
    const dropIn = all.find((r) => r.id === "opensmtpd:restart-drop-in") as FileResource;
    expect(dropIn.path).toBe("/etc/systemd/system/opensmtpd.service.d/mailfleet-restart.conf");
    expect(dropIn.content.split("\n").filter((l) => l && !l.startsWith("#"))).toEqual(["[Service]", "Restart=always", "RestartSec=5s"]);
    const reload = all.find((r) => r.id === "opensmtpd:daemon-reload");
    expect(reload).toMatchObject({ kind: "command", inputs: ["opensmtpd:restart-drop-in"] });
    expect(reload!.kind === "command" && reload!.command.sh).toMatch(/^if \[ -d \/run\/systemd\/system \]; then systemctl daemon-reload; fi$/);
    const jail = fleet({ more: "  jail1: { platform: freebsd, roles: [opensmtpd], address: 10.0.0.6, opensmtpd: { store: store1, filter: none, tls: { cert: /a, key: /b }, smugglingRisk: accepted } }\n" });
    expect(desiredState(byName(jail, "jail1"), secrets, jail).map((r) => r.id).filter((id) => /restart|daemon-reload/.test(id))).toEqual([]);
  });
});
