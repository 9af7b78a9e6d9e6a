// The ssh transport against a real sshd on 127.0.0.1: the example fleet
// applied over ssh must leave exactly what a local apply leaves, with one
// remote command per host for a plan and two for an apply (counted from
// sshd's log), and every connection closed at the end.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { mailfleet, REPO } from "../support/cli.ts";
import { terminateMaster } from "../../src/transports/ssh.ts";
import { freePort, startSshd, type Sshd } from "../support/sshd.ts";
import { snapshotTree } from "../support/tree.ts";
import { poll } from "../support/wait.ts";

/** --timeout, in seconds, of the failure test. */
const TIMEOUT_S = 30;
let sshd: Sshd;
let work: string;
/**
 * A FIFO the command of sshd's second port reads from: that command (the
 * "sleeper" host's) blocks until the test opens the gate, however long the
 * run takes, so only --timeout can end the host's step.
 */
let gate: string;
/** Opens the gate: read-write, which never blocks, then a line; the sleeper's command ends. */
const openGate = () => execa("sh", ["-c", 'exec 3<>"$1"; echo go >&3', "sh", gate], { reject: false });

beforeAll(async () => {
  work = mkdtempSync("/tmp/mf-ssh-e2e-");
  gate = path.join(work, "sleeper.gate");
  await execa("mkfifo", [gate]);
  sshd = await startSshd({ extraPorts: 1, config: (ports) => [`Match LocalPort ${ports[1]}`, `  ForceCommand read line < ${gate}`] });
});

afterAll(async () => {
  if (gate) await openGate();
  await sshd?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The example inventory with every host's transport replaced by `transport(host)`. */
function exampleOver(file: string, transport: (host: string) => Record<string, unknown>): string {
  const doc = YAML.parseDocument(readExample(file));
  const hosts = doc.getIn(["groups", "zones", "hosts"]) as YAML.YAMLMap<YAML.Scalar<string>, unknown>;
  for (const pair of hosts.items) doc.setIn(["groups", "zones", "hosts", pair.key.value, "transport"], transport(pair.key.value));
  return doc.toString();
}

function readExample(file: string): string {
  return readFileSync(path.join(REPO, "examples", file), "utf8");
}

/** Every connection sshd accepted has ended (masters closed), polled since sshd logs it asynchronously. */
function allDisconnected(): Promise<boolean> {
  return poll(() => {
    const c = sshd.counts();
    return c.disconnected >= c.connections;
  }, 30_000, 50);
}

describe("ssh transport over a real sshd", () => {
  it("plans and applies the example fleet with root prefixes on the far side, byte-identical to a local apply, in 1 round trip per plan and 2 per apply", async () => {
    // Local reference apply of examples/zones.yaml.
    const local = path.join(work, "local");
    mkdirSync(local);
    cpSync(path.join(REPO, "examples/zones.yaml"), path.join(local, "zones.yaml"));
    const ref = await mailfleet(["apply", "--yes", "-i", path.join(local, "zones.yaml")]);
    expect(ref.code, ref.stderr).toBe(0);

    // The same fleet over ssh; each host's root prefix is a path on the far side.
    const remote = path.join(work, "remote");
    const inv = path.join(work, "zones-ssh.yaml");
    writeFileSync(inv, exampleOver("zones.yaml", (h) => sshd.transport({ root: `${remote}/${h}` })));
    const tmpdir = path.join(work, "t");
    mkdirSync(tmpdir);
    const env = { TMPDIR: tmpdir };
    const hosts = 2;

    sshd.mark();
    const plan = await mailfleet(["plan", "--detailed-exitcode", "-i", inv], { env });
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toMatch(/web1 \(smartos, ssh:root@127\.0\.0\.1:\d+:\/tmp\/mf-ssh-e2e-\w+\/remote\/web1\)/);
    expect(await allDisconnected()).toBe(true);
    expect(sshd.counts()).toMatchObject({ connections: hosts, sessions: hosts });

    sshd.mark();
    const apply = await mailfleet(["apply", "--yes", "-i", inv], { env });
    expect(apply.code, apply.stderr + apply.stdout).toBe(0);
    expect(apply.stdout).toMatch(/web1: applied \d+ changes, verified/);
    expect(await allDisconnected()).toBe(true);
    // Probe + apply (which ends with the verifying probe) over one multiplexed connection per host.
    expect(sshd.counts()).toMatchObject({ connections: hosts, sessions: 2 * hosts });

    for (const h of ["web1", "db1"]) {
      const reference = snapshotTree(path.join(local, "sandbox", h));
      expect(reference.filter((e) => e.type === "file").length, h).toBeGreaterThanOrEqual(4);
      expect(reference.some((e) => e.type === "fifo"), h).toBe(true);
      expect(snapshotTree(path.join(remote, h)), h).toEqual(reference);
    }

    sshd.mark();
    const again = await mailfleet(["apply", "--yes", "-i", inv], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("Apply: 0 hosts changed, 2 unchanged");
    expect(await allDisconnected()).toBe(true);
    expect(sshd.counts()).toMatchObject({ connections: hosts, sessions: hosts });

    // The private socket directory is gone after each run.
    expect(readdirSync(tmpdir).filter((f) => f.startsWith("mf-ssh-"))).toEqual([]);
  });

  it("closes a ControlMaster through its socket with the multiplexing protocol's terminate request", async () => {
    const socket = path.join(work, "cm");
    sshd.mark();
    await execa("ssh", [
      ...["-o", `UserKnownHostsFile=${sshd.knownHosts}`, "-o", "BatchMode=yes", "-i", sshd.clientKey, "-p", String(sshd.port), "-l", "root"],
      ...["-o", `ControlPath=${socket}`, "-o", "ControlMaster=auto", "-o", "ControlPersist=60", "127.0.0.1", "true"],
    ]);
    expect(existsSync(socket)).toBe(true);
    expect(await terminateMaster(socket)).toBe("terminated");
    expect(await allDisconnected()).toBe(true);
    expect(sshd.counts()).toMatchObject({ connections: 1, disconnected: 1 });
    expect(existsSync(socket)).toBe(false);
    expect(await terminateMaster(socket)).toBe("none");
  });

  it("isolates failures: the other hosts proceed, the summary gives every failure its reason, exit 1, plain lines when not on a terminal", async () => {
    const otherKey = path.join(work, "other_id");
    await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", otherKey]);
    const otherHostKey = path.join(work, "other_host");
    await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", otherHostKey]);
    const emptyKnownHosts = path.join(work, "known_hosts.empty");
    writeFileSync(emptyKnownHosts, "");
    const changedKnownHosts = path.join(work, "known_hosts.changed");
    const otherPub = readFileSync(`${otherHostKey}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
    writeFileSync(changedKnownHosts, `[127.0.0.1]:${sshd.port} ${otherPub}\n`);
    const blocker = path.join(work, "blocker");
    writeFileSync(blocker, "a regular file where a directory is needed\n");
    const root = (h: string) => path.join(work, "fleet", h);
    const closedPort = await freePort();

    const hosts: Record<string, Record<string, unknown>> = {
      good1: sshd.transport({ root: root("good1") }),
      good2: sshd.transport({ root: root("good2") }),
      unreachable: sshd.transport({ root: root("x"), port: closedPort }),
      wrongkey: sshd.transport({ root: root("x"), identityFile: otherKey }),
      unknownkey: sshd.transport({ root: root("x"), options: { UserKnownHostsFile: emptyKnownHosts } }),
      changedkey: sshd.transport({ root: root("x"), options: { UserKnownHostsFile: changedKnownHosts } }),
      sleeper: sshd.transport({ root: root("x"), port: sshd.ports[1] }),
      failapply: sshd.transport({ root: path.join(blocker, "root") }),
    };
    const inv = path.join(work, "failures.yaml");
    writeFileSync(
      inv,
      YAML.stringify({
        defaults: { domain: "example.org", adminaddr: "root@example.org", relay: { host: "10.200.0.7" } },
        groups: {
          zones: {
            platform: "smartos",
            roles: ["nullmailer"],
            hosts: Object.fromEntries(Object.entries(hosts).map(([h, t]) => [h, { transport: t }])),
          },
        },
      }),
    );

    sshd.mark();
    // --timeout gives every host's step ten times and more what a good host's takes on a loaded machine;
    // the sleeper's never ends by itself (its gate stays shut until the run is over)
    const r = await mailfleet(["apply", "--yes", "--timeout", String(TIMEOUT_S), "--parallel", "8", "-i", inv]).finally(openGate);
    expect(r.code).toBe(1);
    // The good hosts went all the way through.
    expect(r.stdout).toMatch(/^good1: applied \d+ changes, verified$/m);
    expect(r.stdout).toMatch(/^good2: applied \d+ changes, verified$/m);
    // Every failure is listed with its reason.
    const summary = r.stderr.slice(r.stderr.indexOf("6 hosts failed:"));
    expect(summary).toMatch(/^6 hosts failed:/);
    expect(summary).toMatch(/unreachable: error: unreachable: connect to host 127\.0\.0\.1 port \d+: Connection refused/);
    expect(summary).toMatch(/wrongkey: error: authentication failed for root@127\.0\.0\.1:\d+: Permission denied \(publickey\) with key .*other_id/);
    expect(summary).toMatch(/unknownkey: error: host key of root@127\.0\.0\.1:\d+ is unknown \(not in known_hosts\)/);
    expect(summary).toMatch(/changedkey: error: host key of root@127\.0\.0\.1:\d+ has CHANGED/);
    expect(summary).toMatch(new RegExp(`sleeper: error: timed out after ${TIMEOUT_S} s on root@127\\.0\\.0\\.1:\\d+ \\(--timeout\\)`));
    expect(summary).toMatch(/failapply: error: apply failed on ssh:\S+ \(exit 1\)/);
    expect(summary).toContain("cannot create the root prefix");
    // Not a terminal: one plain line per host, nothing redrawn.
    expect(r.stderr).toMatch(/^plan \d\/8 good1: ok \(\d+ to add, 0 to change, 0 to remove\)$/m);
    expect(r.stderr).toMatch(new RegExp(`^plan \\d/8 sleeper: FAILED: timed out after ${TIMEOUT_S} s`, "m"));
    expect(r.stderr).not.toMatch(/[\r\x1b]/);
    // The timeout held one host, not the fleet: the run ended although the sleeper's command had not.
    expect(await allDisconnected()).toBe(true);
  }, 180_000);
});
