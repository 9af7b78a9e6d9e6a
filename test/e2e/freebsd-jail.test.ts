// Platform freebsd and the jexec transport. The platform runs with root "/"
// (the code path of a real jail) in a private mount namespace with overlays
// (test/fixtures/freebsd-jail), where pkg, service and sysrc are recording
// stand-ins: they exist only on FreeBSD. jexec, too, is a recording stand-in
// (test/fixtures/standin-bin), reached through a real sshd on 127.0.0.1 as
// the jail host. Everything else is the real engine and sh.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { mailfleet, REPO } from "../support/cli.ts";
import { startSshd, type Sshd } from "../support/sshd.ts";

const FIXTURE = path.join(REPO, "test/fixtures/freebsd-jail");

function jail(settings: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-jail-"));
  execFileSync(path.join(FIXTURE, "install-standins.sh"), [dir]);
  const inv = path.join(dir, "inventory.yaml");
  const write = (extra: string) =>
    writeFileSync(
      inv,
      `hosts:
  jail1:
    platform: freebsd
    roles: [nullmailer]
    domain: example.org
    adminaddr: root@example.org
    relay: { host: relay.example.org, port: 587, tls: starttls }
${extra}`,
    );
  write(settings);
  const env = { MAILFLEET_LOCAL_SHELL: `${path.join(FIXTURE, "enter.sh")} ${dir}` };
  const upper = (p: string) => path.join(dir, "upper", p);
  const calls = () => readFileSync(upper("var/standin/calls.log"), "utf8").split("\n").filter((l) => l && !/^pkg query/.test(l));
  const resetCalls = () => writeFileSync(upper("var/standin/calls.log"), "");
  return { dir, inv, env, upper, calls, resetCalls, write };
}

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
