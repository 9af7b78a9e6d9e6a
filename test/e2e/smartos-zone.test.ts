// The smartos platform with root "/" (the code path of a real zone), in a
// private mount namespace with overlays so this machine is not touched.
// svcadm, svcs, pkgin, pkg_info and zfs are recording stand-ins
// (test/fixtures/smartos-zone); everything else is the real engine and sh.
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { mailfleet, REPO } from "../support/cli.ts";

const FIXTURE = path.join(REPO, "test/fixtures/smartos-zone");

function zone(nullmailerVersion: string, installed: string[], settings: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-zone-"));
  execFileSync(path.join(FIXTURE, "install-standins.sh"), [dir, nullmailerVersion, ...installed]);
  const inv = path.join(dir, "inventory.yaml");
  const write = (extra: string) =>
    writeFileSync(
      inv,
      `hosts:
  zone1:
    platform: smartos
    roles: [nullmailer]
    domain: example.org
    adminaddr: root@example.org
    relay: { host: relay.example.org, port: 587, tls: starttls }
${extra}`,
    );
  write(settings);
  const env = { MAILFLEET_LOCAL_SHELL: `${path.join(FIXTURE, "enter.sh")} ${dir}` };
  const upper = (p: string) => path.join(dir, "upper", p);
  const calls = () => readFileSync(upper("var/standin/calls.log"), "utf8").split("\n").filter((l) => l && !/^(svcs|pkg_info|zfs get)/.test(l));
  const resetCalls = () => writeFileSync(upper("var/standin/calls.log"), "");
  return { dir, inv, env, upper, calls, resetCalls, write };
}

describe("SmartOS zone (root /, recording stand-ins for svcadm, pkgin, zfs)", () => {
  it("installs, configures, enables; a second apply does nothing; a changed setting restarts it once", async () => {
    const z = zone("2.2nb1", [], "");
    const plan = await mailfleet(["plan", "-i", z.inv, "--detailed-exitcode"], { env: z.env });
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toMatch(/\+ install package nullmailer/);
    expect(plan.stdout).toMatch(/~ start service svc:\/pkgsrc\/nullmailer:default/);
    const apply = await mailfleet(["apply", "-i", z.inv, "--yes"], { env: z.env });
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/zone1: applied \d+ changes, verified/);
    expect(z.calls()).toEqual(["pkgin -y install nullmailer", "svcadm enable -s svc:/pkgsrc/nullmailer:default"]);

    const remotes = z.upper("opt/local/etc/nullmailer/remotes");
    expect(readFileSync(remotes, "utf8")).toMatch(/^relay\.example\.org smtp --port=587 --starttls$/m);
    expect(statSync(remotes).mode & 0o777).toBe(0o600);
    expect(statSync(remotes).uid).toBe(916); // nullmail
    expect(readFileSync(z.upper("etc/mailer.conf"), "utf8")).toMatch(/^sendmail\t\/opt\/local\/libexec\/nullmailer\/sendmail$/m);
    expect(readFileSync(z.upper("opt/local/etc/nullmailer/me"), "utf8")).toBe("zone1.example.org\n");
    expect(lstatSync(z.upper("var/spool/nullmailer/failed")).isDirectory()).toBe(true);
    expect(lstatSync(z.upper("var/spool/nullmailer/trigger")).isFIFO()).toBe(true);
    // nullmailer 2.2 has the From-line fix: auto does not wrap
    expect(readFileSync(z.upper("opt/local/libexec/nullmailer/nullmailer-inject"), "utf8")).toMatch(/stand-in nullmailer-inject/);

    z.resetCalls();
    const again = await mailfleet(["apply", "-i", z.inv, "--yes"], { env: z.env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Apply: 0 hosts changed, 1 unchanged/);
    expect(z.calls()).toEqual([]);

    z.write("    nullmailer: { pausetime: 120 }\n");
    const changed = await mailfleet(["apply", "-i", z.inv, "--yes"], { env: z.env });
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toMatch(/restart service svc:\/pkgsrc\/nullmailer:default \(changed: nullmailer:pausetime\)/);
    expect(z.calls()).toEqual(["svcadm restart svc:/pkgsrc/nullmailer:default"]);
  });

  it("persistent spool on a new ZFS dataset: the service is stopped while queued mail moves, then started", async () => {
    const z = zone("2.2nb1", ["nullmailer"], "    nullmailer: { persistentSpool: /home/nullmailer-spool, persistentSpoolDataset: zones/zone1/data/spool }\n");
    // nullmailer is installed and running with mail in its queue
    mkdirSync(z.upper("var/spool/nullmailer/queue"), { recursive: true });
    mkdirSync(z.upper("var/spool/nullmailer/tmp"), { recursive: true });
    for (let i = 0; i < 5; i++) writeFileSync(z.upper(`var/spool/nullmailer/queue/170000000${i}.1`), `root\nadmin@example.org\n\nSubject: ${i}\n\n`);
    writeFileSync(z.upper("var/standin/svc/svc__pkgsrc_nullmailer_default"), "online\n");
    const apply = await mailfleet(["apply", "-i", z.inv, "--yes"], { env: z.env });
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/create ZFS dataset zones\/zone1\/data\/spool mounted at \/home\/nullmailer-spool/);
    expect(apply.stdout).toMatch(/\(5 queued files\)/);
    expect(z.calls()).toEqual([
      "zfs create -o mountpoint=/home/nullmailer-spool zones/zone1/data/spool",
      "svcadm disable -s svc:/pkgsrc/nullmailer:default",
      "svcadm enable -s svc:/pkgsrc/nullmailer:default",
    ]);
    expect(readlinkSync(z.upper("var/spool/nullmailer/queue"))).toBe("/home/nullmailer-spool/queue");
    expect(execFileSync("ls", [z.upper("home/nullmailer-spool/queue")], { encoding: "utf8" }).trim().split("\n")).toHaveLength(5);
  });

  it("injectShim auto wraps nullmailer 2.0 and restores the binary after an upgrade to 2.2", async () => {
    const z = zone("2.0nb3", [], "    nullmailer: { injectShim: auto }\n");
    const first = await mailfleet(["apply", "-i", z.inv, "--yes"], { env: z.env });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toMatch(/wrap \/opt\/local\/libexec\/nullmailer\/nullmailer-inject once nullmailer is installed/);
    const inject = z.upper("opt/local/libexec/nullmailer/nullmailer-inject");
    expect(readFileSync(inject, "utf8")).toMatch(/^#!\/bin\/sh\n# Installed by mailfleet/);
    expect(readFileSync(`${inject}.real`, "utf8")).toMatch(/stand-in nullmailer-inject 2\.0nb3/);
    // verified in the same apply: the next plan has nothing to do
    expect((await mailfleet(["plan", "-i", z.inv, "--detailed-exitcode"], { env: z.env })).code).toBe(0);

    // a pkgsrc upgrade to 2.2 overwrites the wrapper with the new binary
    writeFileSync(z.upper("var/standin/pkgs/nullmailer"), "2.2nb1\n");
    writeFileSync(inject, "#!/bin/sh\n# stand-in nullmailer-inject 2.2nb1 from the pkgin stand-in\ncat >/dev/null\n");
    const plan = await mailfleet(["plan", "-i", z.inv], { env: z.env });
    expect(plan.stdout).toMatch(/- remove \/opt\/local\/libexec\/nullmailer\/nullmailer-inject\.real left by an earlier wrapper \(nullmailer 2\.2 >= 2\.1\)/);
    expect((await mailfleet(["apply", "-i", z.inv, "--yes"], { env: z.env })).code).toBe(0);
    expect(existsSync(`${inject}.real`)).toBe(false);
    expect(readFileSync(inject, "utf8")).toMatch(/2\.2nb1/);
  });

  it("a hub zone: pkgsrc Postfix and Dovecot under /opt/local with SMF; the mail owner created; a second apply does nothing", async () => {
    const z = zone("2.2nb1", [], "");
    mkdirSync(path.join(z.dir, "secrets"));
    writeFileSync(path.join(z.dir, "secrets/bob"), "bob's password\n");
    writeFileSync(
      z.inv,
      `hosts:
  hub1:
    platform: smartos
    roles: [postfix-hub, dovecot]
    domain: example.org
    adminaddr: bob@one.example
    address: 10.200.0.7
    mail:
      domains:
        one.example: { users: { bob: { password: { file: secrets/bob } } }, aliases: { postmaster: bob } }
    dovecot: { tls: { cert: /opt/local/etc/ssl/mail.pem, key: /opt/local/etc/ssl/mail.key } }
  web1: { platform: smartos, roles: [nullmailer], domain: example.org, address: 10.200.0.11, relay: { host: 10.200.0.7 } }
`,
    );
    mkdirSync(z.upper("opt/local/etc/ssl"), { recursive: true });
    writeFileSync(z.upper("opt/local/etc/ssl/mail.pem"), "certificate\n");
    writeFileSync(z.upper("opt/local/etc/ssl/mail.key"), "key\n");
    const apply = await mailfleet(["apply", "-i", z.inv, "--yes", "--limit", "hub1"], { env: z.env });
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/hub1: applied \d+ changes, verified/);
    expect(z.calls()).toEqual([
      "pkgin -y install postfix",
      "postmap -c /opt/local/etc/postfix hash:/opt/local/etc/postfix/vmailbox",
      "postmap -c /opt/local/etc/postfix hash:/opt/local/etc/postfix/virtual",
      "postfix -c /opt/local/etc/postfix check",
      "postconf -c /opt/local/etc/postfix -n",
      "svcadm enable -s svc:/pkgsrc/postfix:default",
      "pkgin -y install dovecot",
      "doveconf -n -c /opt/local/etc/dovecot/dovecot.conf",
      "svcadm enable -s svc:/pkgsrc/dovecot:default",
    ]);
    const main = readFileSync(z.upper("opt/local/etc/postfix/main.cf"), "utf8");
    expect(main).toMatch(/^mynetworks =\n    127\.0\.0\.1\/32\n    \[::1\]\/128\n    10\.200\.0\.11\/32$/m);
    expect(main).toMatch(/^virtual_transport = lmtp:unix:private\/dovecot-lmtp$/m);
    expect(readFileSync(z.upper("opt/local/etc/postfix/master.cf"), "utf8")).toMatch(/^smtp inet {2}n {7}- {7}n /m);
    const conf = readFileSync(z.upper("opt/local/etc/dovecot/dovecot.conf"), "utf8");
    expect(conf).toMatch(/^  args = scheme=BLF-CRYPT username_format=%Lu \/opt\/local\/etc\/dovecot\/users$/m);
    expect(conf).toMatch(/unix_listener \/var\/spool\/postfix\/private\/dovecot-lmtp \{/);
    const users = z.upper("opt/local/etc/dovecot/users");
    expect(readFileSync(users, "utf8")).toMatch(/^bob@one\.example:\{BLF-CRYPT\}\$2b\$10\$[./A-Za-z0-9]{53}:5000:5000::\/var\/vmail\/one\.example\/bob::$/m);
    expect(statSync(users).mode & 0o777).toBe(0o640);
    expect(statSync(users).gid).toBe(919); // dovecot, created by the package
    // the mail owner, created in the zone (its /etc is an overlay here)
    expect(readFileSync(z.upper("etc/passwd"), "utf8")).toMatch(/^vmail:x:5000:5000::\/var\/vmail:\/usr\/bin\/false$/m);
    expect(statSync(z.upper("var/vmail")).uid).toBe(5000);

    z.resetCalls();
    const again = await mailfleet(["apply", "-i", z.inv, "--yes", "--limit", "hub1"], { env: z.env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Apply: 0 hosts changed, 1 unchanged/);
    expect(z.calls()).toEqual([]);
  });
});
