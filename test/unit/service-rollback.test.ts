// A service whose check refuses the new configuration is not restarted, and
// what it reads is put back as it was before this apply: a refused config
// never stays on disk for the next restart or reboot. Run under dash with a
// recording stand-in for the service manager.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hostContext } from "../../src/engine/desired.ts";
import { diffHost } from "../../src/engine/plan.ts";
import { applyScript, parseProbeOutput, probeScript } from "../../src/engine/scripts.ts";
import { debian } from "../../src/platforms/debian.ts";
import type { Platform } from "../../src/platforms/types.ts";
import type { HostContext, Resource } from "../../src/resources/types.ts";
import { hostPath, sh } from "../../src/shell/builder.ts";

const tmp = mkdtempSync(path.join(os.tmpdir(), "mf-rollback-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const log = path.join(tmp, "calls.log");
const record = (what: string, svc: string) => sh`printf '%s %s\\n' ${what} ${svc} >> ${log}`;
const standin: Platform = {
  ...debian,
  serviceProbe: () => sh`echo running`,
  serviceStart: (s) => record("start", s),
  serviceStop: (s) => record("stop", s),
  serviceRestart: (s) => record("restart", s),
  serviceReload: (s) => record("reload", s),
};

function dash(script: string) {
  try {
    return { code: 0, out: execFileSync("dash", ["-s"], { input: script, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] }) };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, out: err.stdout, err: err.stderr };
  }
}

/** Postfix-like inputs: main.cf (replaced), sasl_passwd (replaced) with its postmap, a new header_checks, a file whose mode only changes. */
function resources(checkOk: boolean): Resource[] {
  return [
    { kind: "file", id: "pf:main.cf", path: "/etc/pf/main.cf", content: "new main.cf\n", mode: 0o644 },
    { kind: "file", id: "pf:sasl", path: "/etc/pf/sasl", content: "new sasl\n", mode: 0o600 },
    { kind: "command", id: "pf:postmap", description: "postmap", command: sh`cp ${hostPath("/etc/pf/sasl")} ${hostPath("/etc/pf/sasl.db")}`, inputs: ["pf:sasl"], sources: [], creates: [] },
    { kind: "file", id: "pf:header_checks", path: "/etc/pf/header_checks", content: "new header_checks\n", mode: 0o644 },
    { kind: "file", id: "pf:mode-only", path: "/etc/pf/mode-only", content: "same\n", mode: 0o640 },
    {
      kind: "service",
      id: "pf:service",
      name: "pf",
      inputs: ["pf:main.cf", "pf:postmap", "pf:header_checks", "pf:mode-only"],
      onChange: "reload",
      check: checkOk ? sh`true` : sh`echo 'warning: unused parameter' >&2; false`,
    },
  ];
}

function host(root: string) {
  mkdirSync(path.join(root, "etc/pf"), { recursive: true });
  writeFileSync(path.join(root, "etc/pf/main.cf"), "old main.cf\n");
  writeFileSync(path.join(root, "etc/pf/sasl"), "old sasl\n");
  writeFileSync(path.join(root, "etc/pf/sasl.db"), "old sasl\n");
  writeFileSync(path.join(root, "etc/pf/mode-only"), "same\n", { mode: 0o644 });
}

function apply(root: string, checkOk: boolean) {
  const ctx: HostContext = { ...hostContext(standin, root), sandbox: false };
  const rs = resources(checkOk);
  const facts = parseProbeOutput(dash(probeScript(rs, ctx)).out)!;
  const changes = diffHost(rs, facts, ctx);
  rmSync(log, { force: true });
  return { changes, result: dash(applyScript(rs, changes, ctx)) };
}

const read = (root: string, p: string) => readFileSync(path.join(root, p), "utf8");

describe("a service check that refuses the new configuration", () => {
  it("puts every input back as it was, re-runs postmap on it, and does not reload", () => {
    const root = path.join(tmp, "refused");
    host(root);
    const { changes, result } = apply(root, false);
    expect(changes.map((c) => `${c.id} ${c.action}`)).toEqual([
      "pf:main.cf update",
      "pf:sasl update",
      "pf:postmap run",
      "pf:header_checks create",
      "pf:mode-only update",
      "pf:service reload",
    ]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/pf: configuration check failed, not reloaded; the files it reads are back as they were/);
    expect(read(root, "etc/pf/main.cf")).toBe("old main.cf\n");
    expect(read(root, "etc/pf/sasl")).toBe("old sasl\n");
    expect(read(root, "etc/pf/sasl.db")).toBe("old sasl\n");
    expect(existsSync(path.join(root, "etc/pf/header_checks"))).toBe(false);
    expect(read(root, "etc/pf/mode-only")).toBe("same\n");
    const kept = readdirSync(path.join(root, "etc/pf")).filter((f) => f.includes(".mailfleet-refused."));
    expect(kept.map((f) => f.replace(/\d{8}T\d{6}Z$/, "STAMP")).sort()).toEqual([
      "header_checks.mailfleet-refused.STAMP",
      "main.cf.mailfleet-refused.STAMP",
      "sasl.mailfleet-refused.STAMP",
    ]);
    expect(read(root, `etc/pf/${kept.find((f) => f.startsWith("main.cf"))!}`)).toBe("new main.cf\n");
    expect(existsSync(log)).toBe(false);
  });

  it("leaves the new files in place and reloads when the check passes", () => {
    const root = path.join(tmp, "accepted");
    host(root);
    const { result } = apply(root, true);
    expect(result.code, result.err).toBe(0);
    expect(read(root, "etc/pf/main.cf")).toBe("new main.cf\n");
    expect(read(root, "etc/pf/sasl.db")).toBe("new sasl\n");
    expect(read(root, "etc/pf/header_checks")).toBe("new header_checks\n");
    expect(readFileSync(log, "utf8")).toBe("reload pf\n");
  });
});
