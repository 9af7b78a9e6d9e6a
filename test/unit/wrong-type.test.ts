// Every resource kind that manages a path refuses a host holding another type
// of thing there (what the probe prints, fed to the kind's diff): the change
// carries a conflict naming what is there and what was expected, and the
// engine refuses the whole host before anything is written.
import { describe, expect, it } from "vitest";
import { hostContext } from "../../src/engine/desired.ts";
import { HostError, refuseConflicts } from "../../src/engine/host.ts";
import { debian } from "../../src/platforms/debian.ts";
import { handlerFor } from "../../src/resources/index.ts";
import type { Change, Resource } from "../../src/resources/types.ts";
import { sh } from "../../src/shell/builder.ts";

const real = hostContext(debian, "");
const sandbox = hostContext(debian, "/tmp/sandbox");

/** Probe lines for a path holding `type`, as mf_stat / mf_probe_path print them. */
const FOUND: Record<string, string[]> = {
  missing: ["missing"],
  file: ["f -rw-r--r-- root root 3", " 68 69 0a"],
  dir: ["d drwxr-xr-x root root 0"],
  link: ["l lrwxrwxrwx root root 9", "T elsewhere"],
  fifo: ["p prw------- root root 0"],
  other: ["o srwxr-xr-x root root 0"],
};

function diff(r: Resource, lines: string[], ctx = real): Change | null {
  return handlerFor(r).diff(r, lines, ctx, new Set());
}

const file: Resource = { kind: "file", id: "t:remotes", path: "/etc/nullmailer/remotes", content: "hi\n", mode: 0o600 };
const absent: Resource = { kind: "file", id: "t:pausetime", path: "/etc/nullmailer/pausetime", content: "", mode: 0o644, state: "absent" };
const directory: Resource = { kind: "directory", id: "t:confdir", path: "/etc/nullmailer", mode: 0o755 };
const symlink: Resource = { kind: "symlink", id: "t:link", path: "/etc/mail/x", target: "/etc/nullmailer/x" };
const fifo: Resource = { kind: "fifo", id: "t:trigger", path: "/var/spool/nullmailer/trigger", mode: 0o600 };

const cases: { r: Resource; accepts: string[]; expected: string }[] = [
  { r: file, accepts: ["missing", "file"], expected: "a regular file" },
  { r: absent, accepts: ["missing", "file", "link"], expected: "a regular file, to be removed" },
  { r: directory, accepts: ["missing", "dir"], expected: "a directory" },
  { r: symlink, accepts: ["missing", "link"], expected: "a symbolic link to /etc/nullmailer/x" },
  { r: fifo, accepts: ["missing", "fifo"], expected: "a FIFO" },
];

const WHAT: Record<string, string> = {
  file: "a regular file",
  dir: "a directory",
  link: "a symbolic link to elsewhere",
  fifo: "a FIFO",
  other: "a device or socket",
};

describe("a managed path holding the wrong type", () => {
  for (const { r, accepts, expected } of cases) {
    for (const found of Object.keys(FOUND)) {
      const ok = accepts.includes(found);
      it(`${r.kind}${r.kind === "file" && r.state === "absent" ? " (absent)" : ""} finds ${found}: ${ok ? "no conflict" : "refused"}`, () => {
        const c = diff(r, FOUND[found]!);
        if (ok) {
          expect(c?.conflict).toBeUndefined();
          return;
        }
        expect(c?.conflict).toBe(`${"path" in r ? r.path : ""} is ${WHAT[found]}, but ${r.id} manages ${expected} there; mailfleet does not replace it: move it away, then apply again`);
        expect(c?.summary).toBe(`refused: ${c?.conflict}`);
      });
    }
  }

  it("a command's output that is not a regular file (postmap's .db a directory)", () => {
    const r: Resource = {
      kind: "command",
      id: "t:postmap",
      description: "postmap /etc/postfix/sasl_passwd",
      command: sh`postmap /etc/postfix/sasl_passwd`,
      inputs: [],
      sources: ["/etc/postfix/sasl_passwd"],
      creates: [{ path: "/etc/postfix/sasl_passwd.db", mode: 0o600 }],
    };
    expect(diff(r, ["out d drwxr-xr-x root root 0"])?.conflict).toMatch(/^\/etc\/postfix\/sasl_passwd\.db is a directory, but t:postmap manages a regular file written by postmap/);
    expect(diff(r, ["out f -rw------- root root 12288"])).toBeNull();
  });

  it("a spool move whose spool directory or persistent directory is not a directory", () => {
    const r: Resource = { kind: "spoolMove", id: "t:spool", spool: "/var/spool/nullmailer", dir: "/home/spool", subdirs: ["queue"], mode: 0o700 };
    const queueFile = diff(r, ["sub queue f -rw-r--r-- root root 3", "target missing"], sandbox);
    expect(queueFile?.conflict).toMatch(/^\/var\/spool\/nullmailer\/queue is a regular file, but t:spool manages a directory of queued mail, or a link to \/home\/spool\/queue there/);
    const targetFile = diff(r, ["sub queue d drwx------ root root 0", "~count 3", "target f -rw-r--r-- root root 3"], sandbox);
    expect(targetFile?.conflict).toMatch(/^\/home\/spool\/queue is a regular file, but t:spool manages a directory for queued mail there/);
    expect(diff(r, ["sub queue d drwx------ root root 0", "~count 3", "target missing"], sandbox)?.conflict).toBeUndefined();
  });

  it("the engine refuses the host as a whole, naming every conflict", () => {
    const changes = [diff(file, FOUND.dir!)!, diff(directory, FOUND.file!)!, diff(fifo, FOUND.missing!)!];
    let error: HostError | undefined;
    try {
      refuseConflicts("web1", changes);
    } catch (e) {
      error = e as HostError;
    }
    expect(error?.message).toBe("refused: 2 managed paths hold something mailfleet does not replace; nothing was written on web1");
    expect(error?.detail?.split("\n")).toEqual([changes[0]!.conflict, changes[1]!.conflict]);
    expect(() => refuseConflicts("web1", [changes[2]!])).not.toThrow();
  });
});
