// The zlogin transport: zones entered from their global zone, here a real
// sshd on 127.0.0.1 whose sessions find recording stand-ins for zlogin and
// vmadm (test/fixtures/standin-bin) on their PATH; zlogin exists only on illumos.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { mailfleet, REPO } from "../support/cli.ts";
import { startSshd, type Sshd } from "../support/sshd.ts";

const STANDINS = path.join(REPO, "test/fixtures/standin-bin");
const ZONES = {
  "4b5c6d7e-1111-2222-3333-444455556666": "web1",
  "5c6d7e8f-1111-2222-3333-444455556666": "web2",
  "6d7e8f90-1111-2222-3333-444455556666": "db1",
};

let sshd: Sshd;
let work: string;
let log: string;
let zonesFile: string;

beforeAll(async () => {
  work = mkdtempSync("/tmp/mf-zlogin-e2e-");
  log = path.join(work, "standin.log");
  zonesFile = path.join(work, "zones.list");
  writeFileSync(zonesFile, Object.entries(ZONES).map(([uuid, alias]) => `${uuid} ${alias}\n`).join(""));
  sshd = await startSshd({
    env: { PATH: `${STANDINS}:/usr/sbin:/usr/bin:/sbin:/bin`, MAILFLEET_STANDIN_LOG: log, MAILFLEET_STANDIN_ZONES: zonesFile },
  });
});

afterAll(async () => {
  await sshd?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function inventory(via: Record<string, unknown> | undefined): string {
  const { type: _type, ...gz } = sshd.transport();
  const zone = (ref: string, alias: string) => ({ transport: { type: "zlogin", zone: ref, root: path.join(work, "zones", alias) } });
  return YAML.stringify({
    defaults: { domain: "example.org", adminaddr: "root@example.org", relay: { host: "10.200.0.7" } },
    groups: {
      zones: {
        platform: "smartos",
        roles: ["nullmailer"],
        ...(via === undefined ? {} : { transport: { type: "zlogin", via: { ...gz, ...via } } }),
        hosts: {
          web1: zone("4b5c6d7e-1111-2222-3333-444455556666", "web1"),
          web2: zone("web2", "web2"),
          db1: zone("db1", "db1"),
        },
      },
    },
  });
}

function standinLog(): string[] {
  try {
    return readFileSync(log, "utf8").trim().split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

describe("zlogin transport", () => {
  it("reaches zones by uuid or alias through their global zone over one shared ssh connection", async () => {
    const inv = path.join(work, "via-gz.yaml");
    writeFileSync(inv, inventory({}));
    sshd.mark();
    const r = await mailfleet(["apply", "--yes", "-i", inv]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    for (const z of ["web1", "web2", "db1"]) expect(r.stdout).toMatch(new RegExp(`^${z}: applied \\d+ changes, verified$`, "m"));
    expect(r.stdout).toMatch(/web2 \(smartos, zlogin:root@127\.0\.0\.1:\d+\/web2:\/tmp\//);
    expect(readFileSync(path.join(work, "zones/web2/opt/local/etc/nullmailer/remotes"), "utf8")).toContain("10.200.0.7 smtp");

    // Three zones, one handshake with the global zone; plan + apply = 2 commands per zone.
    expect(sshd.counts()).toMatchObject({ connections: 1, sessions: 6 });
    const zlogins = standinLog().filter((l) => l.startsWith("zlogin "));
    expect(zlogins).toHaveLength(6);
    for (const [uuid] of Object.entries(ZONES)) {
      expect(zlogins.filter((l) => l === `zlogin -Q ${uuid} /bin/sh -s`)).toHaveLength(2);
    }
    // Aliases were looked up in the global zone, in the same command.
    expect(standinLog().filter((l) => l.startsWith("vmadm "))).toEqual(expect.arrayContaining(["vmadm lookup -1 alias=web2", "vmadm lookup -1 alias=db1"]));
  });

  it("runs zlogin directly when mailfleet runs in the global zone", async () => {
    const inv = path.join(work, "in-gz.yaml");
    writeFileSync(inv, inventory(undefined));
    const before = standinLog().length;
    sshd.mark();
    const r = await mailfleet(["plan", "--detailed-exitcode", "-i", inv], {
      env: { PATH: `${STANDINS}:${process.env.PATH}`, MAILFLEET_STANDIN_LOG: log, MAILFLEET_STANDIN_ZONES: zonesFile },
    });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/db1 \(smartos, zlogin:db1:/);
    expect(standinLog().slice(before).filter((l) => l.startsWith("zlogin -Q "))).toHaveLength(3);
    expect(sshd.counts().connections).toBe(0);
  });

  it("names an unknown alias as the zone's failure, and the other zones proceed", async () => {
    const inv = path.join(work, "unknown.yaml");
    writeFileSync(inv, inventory({}).replace("zone: db1", "zone: nosuchzone"));
    const r = await mailfleet(["plan", "-i", inv]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1 host failed:\n\s+db1: error: probe failed on zlogin:\S+nosuchzone\S* \(exit 1\)\n\s+Requested unique lookup but found 0 results\./);
    expect(r.stdout).toMatch(/^Plan: 3 hosts, no changes, 1 failed: db1$/m);
  });
});
