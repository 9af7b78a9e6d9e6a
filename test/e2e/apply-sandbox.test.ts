// plan -> apply -> verify on sandbox trees through the real CLI: idempotence,
// backups, the per-host lock, removed settings, and secrets kept out of output.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, lstatSync } from "node:fs";
import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { mailfleet, REPO } from "../support/cli.ts";

function workspace(inventoryText?: string): { dir: string; inv: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-apply-"));
  cpSync(path.join(REPO, "examples/secrets"), path.join(dir, "secrets"), { recursive: true });
  const inv = path.join(dir, "inventory.yaml");
  writeFileSync(inv, inventoryText ?? readFileSync(path.join(REPO, "examples/zones.yaml"), "utf8"));
  return { dir, inv };
}

/** path -> inode, mtime, mode, content or link target, for every entry under dir. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      const body = st.isFile() ? readFileSync(p, "hex") : "";
      out.set(path.relative(dir, p), `${st.ino} ${st.mtimeMs} ${st.mode.toString(8)} ${body}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

const secret = readFileSync(path.join(REPO, "examples/secrets/relay-password"), "utf8").trim();

describe("apply on a sandbox", () => {
  it("converges: plan shows changes, apply verifies, then plan and a second apply change nothing", async () => {
    const { dir, inv } = workspace();
    const first = await mailfleet(["plan", "-i", inv, "--detailed-exitcode"]);
    expect(first.code).toBe(2);
    expect(first.stdout).toMatch(/\+ create \/opt\/local\/etc\/nullmailer\/remotes \(0600\)/);
    expect(first.stdout).toMatch(/install package nullmailer: skipped under a root prefix/);
    const applied = await mailfleet(["apply", "-i", inv, "--yes"]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/web1: applied \d+ changes, verified/);
    expect(applied.stdout).toMatch(/db1: applied \d+ changes, verified/);

    const before = snapshot(path.join(dir, "sandbox"));
    const again = await mailfleet(["plan", "-i", inv, "--detailed-exitcode"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Plan: 2 hosts, no changes/);
    const second = await mailfleet(["apply", "-i", inv, "--yes"]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/Apply: 0 hosts changed, 2 unchanged/);
    expect(snapshot(path.join(dir, "sandbox"))).toEqual(before);

    const web1 = path.join(dir, "sandbox/web1");
    expect(readFileSync(path.join(web1, "opt/local/etc/nullmailer/remotes"), "utf8")).toMatch(/^10\.200\.0\.7 smtp --port=25$/m);
    expect(readFileSync(path.join(web1, "opt/local/etc/nullmailer/me"), "utf8")).toBe("web1.example.org\n");
    expect(statSync(path.join(web1, "opt/local/etc/nullmailer/remotes")).mode & 0o777).toBe(0o600);
    expect(lstatSync(path.join(web1, "var/spool/nullmailer/trigger")).isFIFO()).toBe(true);
  });

  it("a file changed by hand is shown as a diff, replaced atomically and kept as a backup", async () => {
    const { dir, inv } = workspace();
    expect((await mailfleet(["apply", "-i", inv, "--yes"])).code).toBe(0);
    const adminaddr = path.join(dir, "sandbox/web1/opt/local/etc/nullmailer/adminaddr");
    writeFileSync(adminaddr, "someone@else.example\n", { mode: 0o666 });
    const plan = await mailfleet(["plan", "-i", inv, "--detailed-exitcode"]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain("-someone@else.example");
    expect(plan.stdout).toContain("+root@example.org");
    expect(plan.stdout).toMatch(/service svc:\/pkgsrc\/nullmailer:default \(restart for nullmailer:adminaddr\): skipped/);
    expect((await mailfleet(["apply", "-i", inv, "--yes"])).code).toBe(0);
    expect(readFileSync(adminaddr, "utf8")).toBe("root@example.org\n");
    expect(statSync(adminaddr).mode & 0o777).toBe(0o644);
    const backups = readdirSync(path.dirname(adminaddr)).filter((n) => n.startsWith("adminaddr.mailfleet-bak."));
    expect(backups).toHaveLength(1);
    expect(readFileSync(path.join(path.dirname(adminaddr), backups[0]!), "utf8")).toBe("someone@else.example\n");
    expect(readdirSync(path.dirname(adminaddr)).filter((n) => n.startsWith(".mailfleet."))).toEqual([]);
  });

  it("a setting removed from the inventory removes its file (kept as a backup)", async () => {
    const text = readFileSync(path.join(REPO, "examples/zones.yaml"), "utf8");
    const { dir, inv } = workspace(text.replace("injectShim: auto", "injectShim: auto\n      pausetime: 30"));
    expect((await mailfleet(["apply", "-i", inv, "--yes"])).code).toBe(0);
    const pausetime = path.join(dir, "sandbox/db1/opt/local/etc/nullmailer/pausetime");
    expect(readFileSync(pausetime, "utf8")).toBe("30\n");
    writeFileSync(inv, text);
    const plan = await mailfleet(["plan", "-i", inv]);
    expect(plan.stdout).toMatch(/- remove \/opt\/local\/etc\/nullmailer\/pausetime \(kept as a backup\)/);
    expect((await mailfleet(["apply", "-i", inv, "--yes"])).code).toBe(0);
    expect(existsSync(pausetime)).toBe(false);
    expect(readdirSync(path.dirname(pausetime)).some((n) => n.startsWith("pausetime.mailfleet-bak."))).toBe(true);
  });

  it("one apply at a time per host: a live holder stops the apply with a clear message; killed (-9), it blocks nothing", async () => {
    const { dir, inv } = workspace();
    const runDir = path.join(dir, "sandbox/web1/var/run");
    mkdirSync(runDir, { recursive: true });
    // an apply holding the lock: its entry, named by its pid, open while it runs
    const holder = spawn("/bin/sh", ["-c", 'exec 9>>"$1/mailfleet.lock.$$.1"; echo "held" >&9; echo $$; exec sleep 600', "holder", runDir], { stdio: ["ignore", "pipe", "inherit"] });
    const pid = await new Promise<number>((resolve) => holder.stdout.once("data", (d: Buffer) => resolve(Number(d.toString()))));
    const exited = new Promise((r) => holder.on("exit", r));
    const held = await mailfleet(["apply", "-i", inv, "--yes", "--limit", "web1"]);
    expect(held.code).toBe(1);
    expect(held.stderr).toMatch(new RegExp(`web1: error: locked: another apply is running on this host \\(pid ${pid}, lock .*mailfleet\\.lock\\.${pid}\\.\\*\\)`));
    expect(existsSync(path.join(dir, "sandbox/web1/opt"))).toBe(false);
    holder.kill("SIGKILL");
    await exited;
    const next = await mailfleet(["apply", "-i", inv, "--yes", "--limit", "web1"]);
    expect(next.code, next.stderr).toBe(0);
    expect(readdirSync(runDir)).toEqual([]);

    // killed after its last step: nothing left to change, but plan shows the entry and the next apply removes it
    writeFileSync(path.join(runDir, `mailfleet.lock.${pid}.1`), "held by pid ... since ...\n");
    const plan = await mailfleet(["plan", "-i", inv, "--limit", "web1", "--detailed-exitcode"]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain(`- remove the lock entry left by an apply that ended without releasing it (pid ${pid})`);
    expect((await mailfleet(["apply", "-i", inv, "--yes", "--limit", "web1"])).code).toBe(0);
    expect(readdirSync(runDir)).toEqual([]);
    expect((await mailfleet(["plan", "-i", inv, "--limit", "web1", "--detailed-exitcode"])).code).toBe(0);
  });

  it("never prints a relay password: plan, JSON plan, render and apply show it masked", async () => {
    const text = readFileSync(path.join(REPO, "examples/zones.yaml"), "utf8").replace(
      "    port: 25",
      "    port: 587\n    tls: starttls\n    auth: { user: relay-user, password: { file: secrets/relay-password } }",
    );
    const { dir, inv } = workspace(text);
    const outputs = [
      await mailfleet(["plan", "-i", inv]),
      await mailfleet(["plan", "-i", inv, "--json"]),
      await mailfleet(["render", "-i", inv]),
      await mailfleet(["apply", "-i", inv, "--yes"]),
    ];
    for (const o of outputs) {
      expect(o.code, o.stderr).toBe(0);
      expect(o.stdout + o.stderr).not.toContain(secret);
    }
    expect(outputs[0]!.stdout).toContain("--user=relay-user --pass=********");
    const remotes = readFileSync(path.join(dir, "sandbox/web1/opt/local/etc/nullmailer/remotes"), "utf8");
    expect(remotes).toContain(`--pass=${secret}`);
    // rotating the password is a change, shown without either value
    writeFileSync(path.join(dir, "secrets/relay-password"), "n3w-s3cret\n");
    const rotated = await mailfleet(["plan", "-i", inv, "--detailed-exitcode"]);
    expect(rotated.code).toBe(2);
    expect(rotated.stdout).toMatch(/sensitive content changed \(not shown\)/);
    expect(rotated.stdout).not.toContain(secret);
    expect(rotated.stdout).not.toContain("n3w-s3cret");
  });

  it("plan --json is a plain value with every change", async () => {
    const { inv } = workspace();
    const r = await mailfleet(["plan", "-i", inv, "--json", "--limit", "web*"]);
    const plan = JSON.parse(r.stdout) as { hosts: { host: string; changes: { id: string; action: string }[] }[]; changes: number };
    expect(plan.hosts.map((h) => h.host)).toEqual(["web1"]);
    expect(plan.changes).toBeGreaterThan(5);
    expect(plan.hosts[0]!.changes.map((c) => c.id)).toContain("nullmailer:remotes");
  });
});
