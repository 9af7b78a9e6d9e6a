// Platform freebsd and the jexec transport. The platform runs with root "/"
// (the code path of a real jail) in a private mount namespace with overlays
// (test/fixtures/standin-host), where pkg, service and sysrc are recording
// stand-ins: they exist only on FreeBSD. jexec, too, is a recording stand-in
// (test/fixtures/standin-bin), reached through a real sshd on 127.0.0.1 as
// the jail host. Everything else is the real engine and sh.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import YAML from "yaml";
import { mailfleet, REPO } from "../support/cli.ts";
import { startSshd, type Sshd } from "../support/sshd.ts";
import { nullmailerStandin, standinHost } from "../support/standin-host.ts";

const jail = (settings: string) => nullmailerStandin("freebsd", "jail1", settings);

describe("FreeBSD jail (root /, recording stand-ins for pkg, service, sysrc)", () => {
  it("installs with pkg, enables with sysrc, starts with service; a second apply does nothing; a changed setting restarts once", async () => {
    const j = jail("");
    const plan = await mailfleet(["plan", "-i", j.inv, "--detailed-exitcode"], { env: j.env });
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toMatch(/\+ install package nullmailer/);
    expect(plan.stdout).toMatch(/\+ create \/usr\/local\/etc\/nullmailer\/remotes \(0600 nullmail:nullmail\)/);
    expect(plan.stdout).toMatch(/~ start service nullmailer/);
    const apply = await mailfleet(["apply", "-i", j.inv, "--yes"], { env: j.env });
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/jail1: applied \d+ changes, verified/);
    expect(j.calls()).toEqual(["pkg install -y nullmailer", "sysrc nullmailer_enable=YES", "service nullmailer start"]);
    expect(readFileSync(j.upper("etc/rc.conf"), "utf8")).toBe('nullmailer_enable="YES"\n');

    const remotes = j.upper("usr/local/etc/nullmailer/remotes");
    expect(readFileSync(remotes, "utf8")).toMatch(/^relay\.example\.org smtp --port=587 --starttls$/m);
    expect(statSync(remotes).mode & 0o777).toBe(0o600);
    expect(statSync(remotes).uid).toBe(916); // nullmail
    expect(readFileSync(j.upper("etc/mail/mailer.conf"), "utf8")).toMatch(/^sendmail\t\/usr\/local\/sbin\/sendmail$/m);
    expect(readFileSync(j.upper("usr/local/etc/nullmailer/me"), "utf8")).toBe("jail1.example.org\n");
    // its nullmailer-inject (Debian's 2.2) keeps the headers after a From line: auto does not wrap
    expect(readFileSync(j.upper("usr/local/bin/nullmailer-inject")).equals(readFileSync("/usr/bin/nullmailer-inject"))).toBe(true);

    j.resetCalls();
    const again = await mailfleet(["apply", "-i", j.inv, "--yes"], { env: j.env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Apply: 0 hosts changed, 1 unchanged/);
    expect(j.calls()).toEqual([]);

    j.write("    nullmailer: { pausetime: 30 }\n");
    const changed = await mailfleet(["apply", "-i", j.inv, "--yes"], { env: j.env });
    expect(changed.code, changed.stderr).toBe(0);
    expect(j.calls()).toEqual(["service nullmailer restart"]);
    expect(readFileSync(j.upper("usr/local/etc/nullmailer/pausetime"), "utf8")).toBe("30\n");
  });
});

/** Jails of one inventory, each its own stand-in (a directory with overlays); `apply(name)` applies that host in its jail. */
function mailJails(names: string[], inventory: string) {
  const base = mkdtempSync(path.join(os.tmpdir(), "mf-jails-"));
  const inv = path.join(base, "inventory.yaml");
  writeFileSync(inv, inventory);
  mkdirSync(path.join(base, "secrets"));
  for (const s of ["admin", "bob"]) writeFileSync(path.join(base, "secrets", s), `${s}'s password\n`, { mode: 0o600 });
  const jails = Object.fromEntries(names.map((n) => [n, standinHost("freebsd", { dir: path.join(base, n) })]));
  const of = (jail: string) => jails[jail]!;
  return {
    upper: (jail: string, p: string) => of(jail).upper(p),
    read: (jail: string, p: string) => of(jail).read(p),
    write: (jail: string, p: string, text: string) => of(jail).writeFile(p, text),
    calls: (jail: string) => of(jail).calls(),
    resetCalls: (jail: string) => of(jail).resetCalls(),
    apply: (jail: string) => mailfleet(["apply", "-i", inv, "--yes", "--limit", jail], { env: of(jail).env }),
    remove: () => rmSync(base, { recursive: true, force: true }),
  };
}

describe("FreeBSD jails of the receiving side: the scan jail, the store jail, a hub jail", () => {
  const TLS = (name: string) => `{ cert: /usr/local/etc/ssl/${name}.pem, key: /usr/local/etc/ssl/${name}.key }`;
  const inventory = `defaults:
  domain: example.org
  adminaddr: root@example.org
  platform: freebsd
  mail:
    domains:
      example.org: { users: { admin: { password: { file: secrets/admin } } }, aliases: { root: admin, postmaster: admin } }
      one.example: { users: { bob: { password: { file: secrets/bob } } }, aliases: { postmaster: bob } }
hosts:
  scan1:
    roles: [rspamd, opensmtpd]
    address: 10.0.0.5
    opensmtpd: { store: store1, tls: ${TLS("mx")}, listen: [10.0.0.5], smugglingRisk: accepted }
  store1:
    roles: [dovecot]
    address: 10.0.0.7
    # FreeBSD's dovecot package has no Lua passdb, which the login limits need
    dovecot: { tls: ${TLS("mail")}, authLimits: false }
  hub1:
    roles: [postfix-hub, dovecot]
    address: 10.0.0.8
    dovecot: { tls: ${TLS("mail")}, authLimits: false }
  web1: { roles: [nullmailer], address: 10.0.0.11, relay: { host: scan1 } }
`;

  it("install with pkg, enable with sysrc, start with service, config under /usr/local/etc; a second apply does nothing", async () => {
    const j = mailJails(["scan1", "store1", "hub1"], inventory);
    onTestFinished(j.remove);
    j.write("scan1", "usr/local/etc/ssl/mx.pem", "certificate\n");
    j.write("scan1", "usr/local/etc/ssl/mx.key", "key\n");
    for (const jail of ["store1", "hub1"]) {
      j.write(jail, "usr/local/etc/ssl/mail.pem", "certificate\n");
      j.write(jail, "usr/local/etc/ssl/mail.key", "key\n");
    }

    const scan = await j.apply("scan1");
    expect(scan.code, scan.stdout + scan.stderr).toBe(0);
    expect(scan.stdout).toMatch(/scan1: applied \d+ changes, verified/);
    expect(j.calls("scan1")).toEqual([
      "pkg install -y rspamd",
      "rspamadm --var=CONFDIR=/usr/local/etc/rspamd --var=LOCAL_CONFDIR=/usr/local/etc/rspamd configtest -c /usr/local/etc/rspamd/rspamd.conf",
      "sysrc rspamd_enable=YES",
      "service rspamd start",
      "pkg install -y opensmtpd",
      "pkg install -y opensmtpd-filter-rspamd",
      "pw groupadd vmail -g 5000",
      "pw useradd vmail -u 5000 -g vmail -d /var/empty -s /usr/sbin/nologin",
      "smtpctl show status",
      "smtpd -n -f /usr/local/etc/mail/smtpd.conf",
      "sysrc smtpd_enable=YES",
      "service smtpd start",
    ]);
    const conf = j.read("scan1", "usr/local/etc/mail/smtpd.conf");
    expect(conf).toMatch(/^pki scan1\.example\.org key "\/usr\/local\/etc\/ssl\/mx\.key"$/m);
    expect(conf).toMatch(/^listen on 10\.0\.0\.5 port 25 tls pki scan1\.example\.org hostname scan1\.example\.org filter "intake"$/m);
    expect(conf).toMatch(/^filter "rspamd" proc-exec "\/usr\/local\/libexec\/opensmtpd\/filter-rspamd -url http:\/\/127\.0\.0\.1:11333"$/m);
    expect(conf).toMatch(/^action "store" lmtp "10\.0\.0\.7:24" rcpt-to virtual <vusers>$/m);
    expect(j.read("scan1", "usr/local/etc/mail/smtpd/relay-clients")).toMatch(/^10\.0\.0\.11\/32$/m);
    expect(j.read("scan1", "etc/mail/mailer.conf")).toMatch(/^sendmail\t\/usr\/local\/sbin\/smtpctl$/m);
    expect(j.read("scan1", "usr/local/etc/rspamd/local.d/worker-normal.inc")).toMatch(/^bind_socket = "127\.0\.0\.1:11333";$/m);
    expect(j.read("scan1", "etc/rc.conf")).toBe('rspamd_enable="YES"\nsmtpd_enable="YES"\n');
    expect(j.read("scan1", "etc/passwd")).toMatch(/^vmail:x:5000:5000::\/var\/empty:\/usr\/sbin\/nologin$/m);

    // the dovecot role, the same in the store jail and the hub jail
    const dovecotCalls = [
      "pkg install -y dovecot",
      "pw groupadd vmail -g 5000",
      "pw useradd vmail -u 5000 -g vmail -d /var/vmail -s /usr/sbin/nologin",
      "doveconf -n -c /usr/local/etc/dovecot/dovecot.conf",
      "sysrc dovecot_enable=YES",
      "service dovecot start",
    ];
    const store = await j.apply("store1");
    expect(store.code, store.stdout + store.stderr).toBe(0);
    expect(j.calls("store1")).toEqual(dovecotCalls);
    const dconf = j.read("store1", "usr/local/etc/dovecot/dovecot.conf");
    expect(dconf).toMatch(/^default_internal_user = dovecot\ndefault_internal_group = dovecot\ndefault_login_user = dovenull$/m);
    expect(dconf).toMatch(/# Delivery: scan1 \(10\.0\.0\.5\) over TCP\nservice lmtp \{\n  inet_listener lmtp \{\n    address = 10\.0\.0\.7\n/);
    expect(dconf).toMatch(/args = username_format=%\{if;%\{rip\};eq;;local;%\{sha256:rip\}\}\/%Lu \/usr\/local\/etc\/dovecot\/lmtp-clients$/m);
    const clients = j.upper("store1", "usr/local/etc/dovecot/lmtp-clients");
    expect(readFileSync(clients, "utf8")).toMatch(/\/bob@one\.example::5000:5000::\/var\/vmail\/one\.example\/bob::$/m);
    expect(statSync(clients).mode & 0o777).toBe(0o640);
    expect(statSync(clients).gid).toBe(143); // dovecot, created by the port
    expect(statSync(j.upper("store1", "var/vmail")).uid).toBe(5000);

    const hub = await j.apply("hub1");
    expect(hub.code, hub.stdout + hub.stderr).toBe(0);
    expect(j.calls("hub1")).toEqual([
      "pkg install -y postfix",
      // the release check right after the install (smtpd_forbid_bare_newline), and again by the verification probe at the end
      "postconf -d -h mail_version",
      "postmap -c /usr/local/etc/postfix hash:/usr/local/etc/postfix/vmailbox",
      "postmap -c /usr/local/etc/postfix hash:/usr/local/etc/postfix/virtual",
      "postmap -c /usr/local/etc/postfix hash:/usr/local/etc/postfix/sender-domains",
      "postfix -c /usr/local/etc/postfix check",
      "postconf -c /usr/local/etc/postfix -n",
      "sysrc postfix_enable=YES",
      "service postfix start",
      ...dovecotCalls,
      "postconf -d -h mail_version",
    ]);
    expect(j.read("hub1", "usr/local/etc/postfix/main.cf")).toMatch(/^virtual_transport = lmtp:unix:private\/dovecot-lmtp$/m);
    expect(j.read("hub1", "usr/local/etc/postfix/master.cf")).toMatch(/^smtp inet {2}n {7}- {7}n /m);
    expect(j.read("hub1", "usr/local/etc/dovecot/dovecot.conf")).toMatch(/unix_listener \/var\/spool\/postfix\/private\/dovecot-lmtp \{\n\s+mode = 0600\n\s+user = postfix/);

    for (const jail of ["scan1", "store1", "hub1"]) {
      j.resetCalls(jail);
      const again = await j.apply(jail);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/Apply: 0 hosts changed, 1 unchanged/);
      // nothing but the hub's release check, which only reads
      expect([jail, j.calls(jail)]).toEqual([jail, jail === "hub1" ? ["postconf -d -h mail_version"] : []]);
    }
  }, 120_000);
});

describe("jexec transport", () => {
  const STANDINS = path.join(REPO, "test/fixtures/standin-bin");
  let sshd: Sshd;
  let work: string;
  let log: string;
  let jails: string;

  beforeAll(async () => {
    work = mkdtempSync("/tmp/mf-jexec-e2e-");
    log = path.join(work, "standin.log");
    jails = path.join(work, "jails.list");
    writeFileSync(jails, "1 web1\n2 db1\n");
    sshd = await startSshd({ env: { PATH: `${STANDINS}:/usr/sbin:/usr/bin:/sbin:/bin`, MAILFLEET_STANDIN_LOG: log, MAILFLEET_STANDIN_JAILS: jails } });
  });
  afterAll(async () => {
    await sshd?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const inventory = (web1Jail: string) => {
    const { type: _type, ...host } = sshd.transport();
    return YAML.stringify({
      defaults: { domain: "example.org", adminaddr: "root@example.org", relay: { host: "10.200.0.7" } },
      groups: {
        jails: {
          platform: "freebsd",
          roles: ["nullmailer"],
          transport: { type: "jexec", via: host },
          hosts: {
            web1: { transport: { type: "jexec", jail: web1Jail, root: path.join(work, "jails/web1") } },
            db1: { transport: { type: "jexec", jail: "2", root: path.join(work, "jails/db1") } },
          },
        },
      },
    });
  };
  const jexecCalls = () => readFileSync(log, "utf8").trim().split("\n").filter((l) => l.startsWith("jexec "));

  it("reaches jails by name or jid through their host over one shared ssh connection", async () => {
    const inv = path.join(work, "jails.yaml");
    writeFileSync(inv, inventory("web1"));
    sshd.mark();
    const r = await mailfleet(["apply", "--yes", "-i", inv]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    for (const h of ["web1", "db1"]) expect(r.stdout).toMatch(new RegExp(`^${h}: applied \\d+ changes, verified$`, "m"));
    expect(r.stdout).toMatch(/web1 \(freebsd, jexec:root@127\.0\.0\.1:\d+\/web1:\/tmp\//);
    expect(readFileSync(path.join(work, "jails/db1/usr/local/etc/nullmailer/remotes"), "utf8")).toContain("10.200.0.7 smtp");
    // two jails, one handshake with their host; plan + apply = 2 commands per jail
    expect(sshd.counts()).toMatchObject({ connections: 1, sessions: 4 });
    expect(jexecCalls().sort()).toEqual(["jexec 2 /bin/sh -s", "jexec 2 /bin/sh -s", "jexec web1 /bin/sh -s", "jexec web1 /bin/sh -s"]);
  });

  it("names an unknown jail as that host's failure, and the other jail proceeds", async () => {
    const inv = path.join(work, "unknown.yaml");
    writeFileSync(inv, inventory("nosuchjail"));
    const r = await mailfleet(["plan", "-i", inv]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1 host failed:\n\s+web1: error: probe failed on jexec:\S+nosuchjail\S* \(exit 1\)\n\s+jexec: jail "nosuchjail" not found/);
    expect(r.stdout).toMatch(/^Plan: 2 hosts, no changes, 1 failed: web1$/m);
  });
});
