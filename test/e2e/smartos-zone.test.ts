// The smartos platform with root "/" (the code path of a real zone), in a
// private mount namespace with overlays so this machine is not touched.
// svcadm, svcs, pkgin, pkg_info and zfs are recording stand-ins
// (test/fixtures/standin-host); everything else is the real engine and sh.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, lstatSync, readFileSync, readlinkSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { mailfleet, REPO } from "../support/cli.ts";
import { nullmailerStandin } from "../support/standin-host.ts";

/** nullmailer-inject with the behaviour of 2.0 (Debian's source, the 2.1 fix reverted; scripts/test-deps.mjs), and Debian's own 2.2. */
const UNFIXED = path.join(REPO, ".deps/nullmailer-unfixed/nullmailer-inject");
const FIXED = "/usr/bin/nullmailer-inject";

/** A zone whose nullmailer package (version `nullmailerVersion`) brings the nullmailer-inject `inject`. */
function zone(nullmailerVersion: string, installed: string[], settings: string, inject = FIXED) {
  return nullmailerStandin("smartos", "zone1", settings, { nullmailerVersion, installed, inject });
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
    // nullmailer 2.2 has the From-line fix, and its binary says so: auto does not wrap
    expect(readFileSync(z.upper("opt/local/libexec/nullmailer/nullmailer-inject")).equals(readFileSync(FIXED))).toBe(true);

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

});

describe("injectShim auto in a zone: the binary's behaviour decides, never its version", () => {
  const INJECT = "opt/local/libexec/nullmailer/nullmailer-inject";
  const plan = (z: ReturnType<typeof zone>) => mailfleet(["plan", "-i", z.inv, "--detailed-exitcode"], { env: z.env });
  const apply = async (z: ReturnType<typeof zone>) => {
    const r = await mailfleet(["apply", "-i", z.inv, "--yes"], { env: z.env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/NOT converged/);
    return r;
  };
  const converged = async (z: ReturnType<typeof zone>) => {
    const p = await plan(z);
    expect(p.code, p.stdout + p.stderr).toBe(0);
  };
  const isWrapper = (z: ReturnType<typeof zone>) => /^#!\/bin\/sh\n# Installed by mailfleet/.test(readFileSync(z.upper(INJECT), "latin1"));
  const cron = "From root Mon Nov 14 23:42 UTC 2016\nTo: root\nSubject: Cron <root@zone1> echo hi\n\nhi\n";

  it("the apply installs a package whose nullmailer-inject loses the headers (its version says 2.2): one apply wraps it, cron mail keeps its headers", async () => {
    const z = zone("2.2nb1", [], "", UNFIXED);
    const p = await plan(z);
    expect(p.stdout).toContain("wrap /opt/local/libexec/nullmailer/nullmailer-inject once nullmailer is installed, if its nullmailer-inject loses the headers after a leading From line (probed after the install)");
    await apply(z);
    expect(isWrapper(z)).toBe(true);
    expect(readFileSync(z.upper(`${INJECT}.real`)).equals(readFileSync(UNFIXED))).toBe(true);
    await converged(z);
    const out = z.run(`printf '%s' '${cron}' | /${INJECT} -n -h`);
    expect(out.split("\n\n")[0]).toContain("Subject: Cron <root@zone1> echo hi");
  });

  it("pkgsrc's 1.13nb4 with the fix patched in: its binary keeps the headers, so nothing is wrapped", async () => {
    const z = zone("1.13nb4", [], "", FIXED);
    await apply(z);
    expect(isWrapper(z)).toBe(false);
    expect(existsSync(z.upper(`${INJECT}.real`))).toBe(false);
    await converged(z);
  });

  it("an unfixed binary built from source over a registered 2.2: the plan probes it and wraps it", async () => {
    const z = zone("2.2nb1", ["nullmailer"], "", FIXED);
    mkdirSync(path.dirname(z.upper(INJECT)), { recursive: true });
    copyFileSync(UNFIXED, z.upper(INJECT));
    const p = await plan(z);
    expect(p.stdout).toContain(
      "wrap /opt/local/libexec/nullmailer/nullmailer-inject, keeping the binary as /opt/local/libexec/nullmailer/nullmailer-inject.real (its nullmailer-inject loses the headers after a leading From line (probed; fixed in nullmailer 2.1))",
    );
    await apply(z);
    expect(isWrapper(z)).toBe(true);
    await converged(z);
  });

  it("the apply installs an unfixed package over an unregistered fixed binary: decided after the install, converged in one apply", async () => {
    const z = zone("2.0nb3", [], "", UNFIXED);
    mkdirSync(path.dirname(z.upper(INJECT)), { recursive: true });
    copyFileSync(FIXED, z.upper(INJECT));
    await apply(z);
    expect(isWrapper(z)).toBe(true);
    expect(readFileSync(z.upper(`${INJECT}.real`)).equals(readFileSync(UNFIXED))).toBe(true);
    await converged(z);
  });

  it("an upgrade to a fixed binary overwrites the wrapper: the old binary kept at .real goes", async () => {
    const z = zone("2.0nb3", [], "", UNFIXED);
    await apply(z);
    expect(isWrapper(z)).toBe(true);
    writeFileSync(z.upper("var/standin/pkgs/nullmailer"), "2.2nb1\n");
    copyFileSync(FIXED, z.upper(INJECT));
    const p = await plan(z);
    expect(p.stdout).toMatch(/- remove \/opt\/local\/libexec\/nullmailer\/nullmailer-inject\.real left by an earlier wrapper \(its nullmailer-inject keeps the headers after a leading From line \(probed\)\)/);
    await apply(z);
    expect(existsSync(z.upper(`${INJECT}.real`))).toBe(false);
    expect(readFileSync(z.upper(INJECT)).equals(readFileSync(FIXED))).toBe(true);
    await converged(z);
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
    # pkgsrc's Dovecot has no Lua passdb, which the login limits need
    dovecot: { tls: { cert: /opt/local/etc/ssl/mail.pem, key: /opt/local/etc/ssl/mail.key }, authLimits: false }
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
      // the release check right after the install (smtpd_forbid_bare_newline), and again by the verification probe at the end
      "postconf -d -h mail_version",
      "postmap -c /opt/local/etc/postfix hash:/opt/local/etc/postfix/vmailbox",
      "postmap -c /opt/local/etc/postfix hash:/opt/local/etc/postfix/virtual",
      "postmap -c /opt/local/etc/postfix hash:/opt/local/etc/postfix/sender-domains",
      "postfix -c /opt/local/etc/postfix check",
      "postconf -c /opt/local/etc/postfix -n",
      "svcadm enable -s svc:/pkgsrc/postfix:default",
      "pkgin -y install dovecot",
      "doveconf -n -c /opt/local/etc/dovecot/dovecot.conf",
      "svcadm enable -s svc:/pkgsrc/dovecot:default",
      "postconf -d -h mail_version",
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
    // nothing but the release check, which only reads
    expect(z.calls()).toEqual(["postconf -d -h mail_version"]);
  });
});
