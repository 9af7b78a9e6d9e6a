// Every resource kind's probe and apply script, fed hostile values (quotes,
// $(...), backticks, newlines, globs, a leading '-', unicode) and run under
// dash: nothing they carry is executed, and every path and argument arrives
// exactly. The platform's package, service and ZFS commands are recording
// stand-ins (printf of their arguments), so nothing on this machine changes.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hostContext } from "../../src/engine/desired.ts";
import { diffHost } from "../../src/engine/plan.ts";
import { applyScript, parseProbeOutput, probeScript } from "../../src/engine/scripts.ts";
import { debian } from "../../src/platforms/debian.ts";
import type { Platform } from "../../src/platforms/types.ts";
import type { Change, HostContext, Resource } from "../../src/resources/types.ts";
import type { MtaQueue } from "../../roles/lib/mta/types.ts";
import { hostPath, sh } from "../../src/shell/builder.ts";

const tmp = mkdtempSync(path.join(os.tmpdir(), "mf-hostile-scripts-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const canary = path.join(tmp, "EXECUTED");
const log = path.join(tmp, "calls.log");

/** A value no shell should ever run or split: every quoting trap at once (the scripts run in tmp, so an executed touch leaves EXECUTED there). */
const H = `it's "q" $(touch EXECUTED) \`touch EXECUTED\`; | & * ? [a] $HOME \\ x\nnew line -rf ünï ☃`;
const root = path.join(tmp, `root $(touch EXECUTED) 'r'`);
/** A host path with H in a directory name and a leading '-' in the last one. */
const hp = (name: string) => `/srv/${H}/-${name} ${H}`;

/** Recording stand-ins: each command prints its name and arguments, one per line, to the log. */
const record = (what: string, ...args: string[]) => sh`printf '%s\\n' ${what} ${args} >> ${log}`;
const standin: Platform = {
  ...debian,
  name: "standin",
  packageProbe: (pkg) => sh`${record("package-probe", pkg)}; echo absent`,
  packageInstall: (pkg) => record("package-install", pkg),
  packageRemove: (pkg) => record("package-remove", pkg),
  packagePreseed: (sel) => record("preseed", sel),
  serviceProbe: (svc) => sh`${record("service-probe", svc)}; echo stopped`,
  serviceStart: (svc) => record("service-start", svc),
  serviceStop: (svc) => record("service-stop", svc),
  serviceRestart: (svc) => record("service-restart", svc),
  serviceReload: (svc) => record("service-reload", svc),
  zfsProbe: (ds) => sh`${record("zfs-probe", ds)}; echo absent`,
  zfsCreate: (ds, mp) => record("zfs-create", ds, mp),
};
const ctx: HostContext = { ...hostContext(standin, root), sandbox: false };

function dash(script: string): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync("dash", ["-s"], { input: script, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], cwd: tmp });
    return { code: 0, stdout, stderr: "" };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Probes, diffs and applies `resources` under dash; returns the changes that were applied. */
function run(resources: Resource[], force?: (c: Change[]) => Change[]): Change[] {
  rmSync(log, { force: true });
  const probe = dash(probeScript(resources, ctx));
  expect(probe.code, probe.stderr).toBe(0);
  const facts = parseProbeOutput(probe.stdout);
  expect(facts).not.toBeNull();
  let changes = diffHost(resources, facts!, ctx).filter((c) => c.action !== "skip");
  if (force) changes = force(changes);
  const apply = dash(applyScript(resources, changes, ctx));
  expect(apply.code, apply.stderr).toBe(0);
  expect(existsSync(canary)).toBe(false);
  return changes;
}

const at = (p: string) => path.join(root, p);
const calls = () => readFileSync(log, "utf8").split("\n").slice(0, -1);

describe("hostile values through every resource kind, under dash", () => {
  it("file: exact path, exact bytes", () => {
    const content = `${H}\n\0 NUL and \\0 and '%s' %b\n`;
    run([{ kind: "file", id: `f ${H}`, path: hp("file"), content, mode: 0o640 }]);
    expect(readFileSync(at(hp("file")), "utf8")).toBe(content);
    expect(lstatSync(at(hp("file"))).mode & 0o777).toBe(0o640);
  });

  it("directory and fifo: exact paths", () => {
    run([
      { kind: "directory", id: "d", path: hp("dir"), mode: 0o750 },
      { kind: "fifo", id: "p", path: hp("fifo"), mode: 0o600 },
    ]);
    expect(lstatSync(at(hp("dir"))).isDirectory()).toBe(true);
    expect(lstatSync(at(hp("fifo"))).isFIFO()).toBe(true);
  });

  it("symlink: exact path and target", () => {
    run([{ kind: "symlink", id: "l", path: hp("link"), target: `-${H}` }]);
    expect(readlinkSync(at(hp("link")))).toBe(`-${H}`);
  });

  it("package and service: the stand-ins get the exact names", () => {
    const changes = run([
      { kind: "package", id: "pkg", name: `-${H}`, state: "present", debconf: H },
      { kind: "service", id: "svc", name: `-${H}`, inputs: ["pkg"], onChange: "restart", check: sh`true ${H}` },
    ]);
    expect(changes.map((c) => c.action)).toEqual(["install", "start"]);
    expect(calls()).toEqual([
      ...["package-probe", `-${H}`, "service-probe", `-${H}`].flatMap((l) => l.split("\n")),
      ...["preseed", H, "package-install", `-${H}`, "service-start", `-${H}`].flatMap((l) => l.split("\n")),
      // the verification probe
      ...["package-probe", `-${H}`, "service-probe", `-${H}`].flatMap((l) => l.split("\n")),
    ]);
  });

  it("zfsDataset: the stand-in gets the exact dataset and mountpoint", () => {
    run([{ kind: "zfsDataset", id: "z", dataset: `-${H}`, mountpoint: hp("mnt") }]);
    expect(calls().join("\n")).toContain(`zfs-create\n-${H}\n${hp("mnt")}`);
  });

  it("command: hostile description, sources and outputs; only its own code runs", () => {
    const out = hp("command-out");
    mkdirSync(path.dirname(at(out)), { recursive: true });
    writeFileSync(at(hp("command-src")), "source\n");
    run([{ kind: "file", id: "src", path: hp("command-src"), content: "source 2\n", mode: 0o644 },
      { kind: "command", id: "cmd", description: `postmap ${H}`, command: sh`printf made > ${hostPath(out)}`, inputs: ["src"], sources: [hp("command-src")], creates: [{ path: out, mode: 0o600 }] }]);
    expect(readFileSync(at(out), "utf8")).toBe("made");
    expect(lstatSync(at(out)).mode & 0o777).toBe(0o600);
  });

  it("spoolMove: messages move to the exact persistent path and are linked back", () => {
    const spool = hp("spool");
    const keep = hp("keep");
    mkdirSync(at(`${spool}/queue`), { recursive: true });
    mkdirSync(at(keep), { recursive: true });
    writeFileSync(at(`${spool}/queue/-m ${H}`), `message ${H}`);
    run([{ kind: "spoolMove", id: "s", spool, dir: keep, subdirs: ["queue"], mode: 0o700 }]);
    expect(readlinkSync(at(`${spool}/queue`))).toBe(`${keep}/queue`);
    expect(readFileSync(at(`${keep}/queue/-m ${H}`), "utf8")).toBe(`message ${H}`);
  });

  it("shim: the wrapper at the exact path, the binary kept beside it", () => {
    const bin = hp("inject");
    mkdirSync(path.dirname(at(bin)), { recursive: true });
    writeFileSync(at(bin), "#!/bin/sh\necho real\n");
    chmodSync(at(bin), 0o755);
    const wrapper = `#!/bin/sh\n# ${H}\nexec ${JSON.stringify(`${bin}.real`)} "$@"`; // no final newline
    run([{ kind: "shim", id: "shim", path: bin, realPath: `${bin}.real`, content: wrapper, want: "always", package: `-${H}`, functions: sh`true`, check: sh`echo wrap:`, need: H }]);
    expect(readFileSync(at(bin), "utf8")).toBe(wrapper);
    expect(readFileSync(at(`${bin}.real`), "utf8")).toBe("#!/bin/sh\necho real\n");
  });

  it("generatedKey: the key at the exact path, generated in its own directory, once; the public half printed as it is", () => {
    // (an id is one line: the probe's output is split at its lines)
    const id = `k ${H.replace(/\n/g, " ")}`;
    const key: Resource = {
      kind: "generatedKey",
      id,
      path: hp("key"),
      mode: 0o600,
      description: `key ${H}`,
      // a stand-in for openssl: the key is a line naming the directory it was made in; neither command can read the script (its stdin)
      generate: sh`pwd > "$1"; cat > /dev/null`,
      publicHalf: sh`cat > /dev/null; printf '%s\\n' ${`public ${H}`}`,
    };
    // a large file after it: a command that read the script would take its step and what follows
    const after: Resource = { kind: "file", id: "after", path: hp("after"), content: "x".repeat(200_000), mode: 0o644 };
    const made = run([key, after]);
    expect(made.map((c) => c.action)).toEqual(["create", "create"]);
    expect(readFileSync(at(hp("after")), "utf8")).toBe(after.content);
    // it ran in the directory beside the key that held "$1", which is gone
    const madeIn = readFileSync(at(hp("key")), "utf8");
    expect(madeIn.startsWith(`${path.dirname(at(hp("key")))}/.mailfleet.`)).toBe(true);
    expect(madeIn.endsWith(`.${path.basename(hp("key"))}.keygen\n`)).toBe(true);
    expect(existsSync(madeIn.slice(0, -1))).toBe(false);
    expect(lstatSync(at(hp("key"))).mode & 0o777).toBe(0o600);
    expect(run([key, after])).toEqual([]);
    const probe = dash(probeScript([key, after], ctx));
    expect(parseProbeOutput(probe.stdout)!.get(id)!.filter((l) => l.startsWith("pub "))).toEqual(`public ${H}`.split("\n").map((l) => `pub ${l}`));
  });

  it("mtaHandover and parkedMail: names, paths and sendmail arguments arrive exactly", () => {
    const parking = hp("parking");
    mkdirSync(at(parking), { recursive: true });
    writeFileSync(at(`${parking}/-p ${H}`), `-sender ${H.replace(/\n/g, " ")}\nrcpt@example.org\n\nSubject: parked\n\nbody ${H}\n`);
    const sendmail = path.join(tmp, "sendmail standin");
    writeFileSync(sendmail, `#!/bin/sh\nprintf '%s\\n' sendmail "$@" >> '${log}'\ncat > '${tmp}/delivered'\n`);
    chmodSync(sendmail, 0o755);
    const queue: MtaQueue = {
      mta: "old",
      title: `old ${H}`,
      package: `-${H}`,
      service: `-${H}`,
      functions: sh`true`,
      present: sh`false`,
      count: sh`echo 0`,
      flush: sh`true`,
      flushNeedsService: false,
      park: sh`true`,
      sendmail: [],
      status: sh`true`,
      parseStatus: () => [],
      knows: { states: ["queued"], errors: false },
    };
    run(
      [
        { kind: "mtaHandover", id: "park", queue, removePackage: true, parking, wait: 1 },
        { kind: "parkedMail", id: "deliver", parking, inputs: ["park"], sendmail: [sendmail, `-o ${H}`] },
      ],
      // the stand-in says the old package is absent: pretend it is installed, so its removal runs too
      () => [
        { id: "park", kind: "mtaHandover", action: "remove", target: queue.package, summary: "", data: { installed: true } },
        { id: "deliver", kind: "parkedMail", action: "move", target: parking, summary: "" },
      ],
    );
    const c = calls().join("\n");
    expect(c).toContain(`service-stop\n-${H}\npackage-remove\n-${H}`);
    expect(c).toContain(`sendmail\n-o ${H}\n-i\n-f\n-sender ${H.replace(/\n/g, " ")}\n--\nrcpt@example.org`);
    expect(readFileSync(path.join(tmp, "delivered"), "utf8")).toBe(`Subject: parked\n\nbody ${H}\n`);
  });
});
