// The stack with the pg backend on a private PostgreSQL cluster: two applies
// at once, one fails on the state lock, a third waits for it, and the state
// stays one consistent document. The connection string (with its password)
// reaches Terraform only through PG_CONN_STR.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mailfleet, REPO } from "../support/cli.ts";
import { exampleFleet, type ExampleFleet } from "../support/fleet.ts";
import { startPostgres, type Postgres } from "../support/postgres.ts";
import { startTerraform, terraform } from "../support/terraform.ts";
import { waitFor } from "../support/wait.ts";

const SECRET = `relay-${randomBytes(16).toString("hex")}`;
const SECRET_ENV = "MF_E2E_RELAY_PASSWORD";
const SCHEMA = "mailfleet_e2e";
const HOSTS = ["web1", "db1", "app1", "app2", "mx1"];

function allFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

describe("terraform stack, pg backend", () => {
  let pg: Postgres;
  let fleet: ExampleFleet;
  let stack: string;
  const transcript: string[] = [];
  const env = () => ({ PG_CONN_STR: pg.connStr, [SECRET_ENV]: SECRET });
  const tf = (args: string[]) => terraform(stack, args, env(), transcript);

  beforeAll(async () => {
    pg = await startPostgres();
    fleet = exampleFleet({ password: { env: SECRET_ENV }, secret: SECRET, extraHosts: HOSTS.slice(2) });
    stack = path.join(fleet.dir, "cdktf.out/stacks/mailfleet");
  });
  afterAll(async () => {
    await pg?.stop();
    if (fleet) rmSync(fleet.dir, { recursive: true, force: true });
  });

  it("synthesizes a pg backend without the connection string, and inits against the cluster", async () => {
    const r = await mailfleet(["synth", "-i", fleet.inventory, "--out", path.join(fleet.dir, "cdktf.out"), "--backend", "pg", "--backend-config", `schema_name=${SCHEMA}`], {
      env: { PG_CONN_STR: pg.connStr },
    });
    expect(r.code, r.stderr).toBe(0);
    transcript.push(r.stdout, r.stderr);
    const json = JSON.parse(readFileSync(path.join(stack, "cdk.tf.json"), "utf8"));
    expect(json.terraform.backend).toEqual({ pg: { schema_name: SCHEMA } });
    const init = await tf(["init", "-input=false"]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain('Successfully configured the backend "pg"');
  });

  it("two applies at once: one fails on the lock, one waits for it; every host is applied exactly once", async () => {
    const advisoryLocks = async () => Number(await pg.sql("select count(*) from pg_locks where locktype = 'advisory' and granted"));
    expect(await advisoryLocks()).toBe(0);
    const finished: Record<string, number> = {};
    const run = (name: string, args: string[]) =>
      startTerraform(stack, ["apply", "-auto-approve", "-input=false", ...args], env(), transcript).then((r) => {
        finished[name] = Date.now();
        return { code: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
      });

    // One host at a time, so the first apply holds the lock for several seconds.
    const first = run("first", ["-parallelism=1", "-lock-timeout=0s"]);
    await waitFor("the first apply to hold the state lock", async () => (await advisoryLocks()) > 0);
    const [failing, waiting] = [run("failing", ["-lock-timeout=0s"]), run("waiting", ["-lock-timeout=300s"])];
    const [a, b, c] = await Promise.all([first, failing, waiting]);

    expect(b.code).toBe(1);
    expect(b.stderr).toContain("Error acquiring the state lock");
    expect(b.stdout).not.toContain("(local-exec)");

    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain(`Apply complete! Resources: ${HOSTS.length} added, 0 changed, 0 destroyed.`);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain("Apply complete! Resources: 0 added, 0 changed, 0 destroyed.");
    expect(finished.waiting).toBeGreaterThanOrEqual(finished.first!);
    for (const h of HOSTS) {
      const runs = [a, b, c].map((r) => r.stdout.split("\n").filter((l) => l.startsWith(`terraform_data.${h} (local-exec): ${h}: applied`)).length);
      expect(runs, h).toEqual([1, 0, 0]);
      expect(readFileSync(path.join(fleet.dir, "sandbox", h, "opt/local/etc/nullmailer/remotes"), "utf8")).toContain(`--pass=${SECRET}`);
    }
    expect(await advisoryLocks()).toBe(0);
  });

  it("leaves one consistent state: every host once, and a plan with no changes", async () => {
    expect(await pg.sql(`select name from ${SCHEMA}.states`)).toBe("default");
    const state = JSON.parse(await pg.sql(`select data from ${SCHEMA}.states`)) as { serial: number; resources: { type: string; name: string }[] };
    expect(state.resources.map((r) => `${r.type}.${r.name}`).sort()).toEqual(HOSTS.map((h) => `terraform_data.${h}`).sort());
    const list = await tf(["state", "list"]);
    expect(list.stdout.trim().split("\n").sort()).toEqual(HOSTS.map((h) => `terraform_data.${h}`).sort());
    const plan = await tf(["plan", "-detailed-exitcode", "-input=false"]);
    expect(plan.code, plan.stderr).toBe(0);
  });

  it("neither the relay password nor the database password is in the stack, the state or terraform's output", async () => {
    const state = await pg.sql(`select data from ${SCHEMA}.states`);
    expect(state).not.toContain(SECRET);
    const files = allFiles(path.join(fleet.dir, "cdktf.out"));
    expect(files.some((f) => f.endsWith(".terraform/terraform.tfstate"))).toBe(true);
    for (const f of files) {
      const bytes = readFileSync(f);
      expect(bytes.includes(SECRET), f).toBe(false);
      expect(bytes.includes(pg.password), f).toBe(false);
    }
    for (const t of transcript) {
      expect(t).not.toContain(SECRET);
      expect(t).not.toContain(pg.password);
    }
  });

  it("split stacks: two runners apply their parts at once, each under its own lock and state, and both converge", async () => {
    const split = exampleFleet({ password: { env: SECRET_ENV }, secret: SECRET, extraHosts: HOSTS.slice(2) });
    try {
      const out = path.join(split.dir, "cdktf.out");
      const r = await mailfleet(["synth", "-i", split.inventory, "--out", out, "--backend", "pg", "--backend-config", "schema_name=mf_split", "--split-by", "front=web1,app1", "--split-by", "back=db1,app2,mx1"], { env: env() });
      expect(r.code, r.stderr).toBe(0);
      transcript.push(r.stdout, r.stderr);
      const manifest = JSON.parse(readFileSync(path.join(out, "manifest.json"), "utf8")) as { stacks: Record<string, unknown> };
      expect(Object.keys(manifest.stacks).sort()).toEqual(["mailfleet-back", "mailfleet-front"]);
      const dirOf = (s: string) => path.join(out, "stacks", s);
      for (const s of ["mailfleet-front", "mailfleet-back"]) expect((await terraform(dirOf(s), ["init", "-input=false"], env(), transcript)).code).toBe(0);

      // A stack's first apply creates its state under Terraform's one creation lock for the database: one after the other.
      for (const s of ["mailfleet-front", "mailfleet-back"]) {
        expect((await terraform(dirOf(s), ["apply", "-auto-approve", "-input=false"], env(), transcript)).code).toBe(0);
      }
      split.edit((d) => d.setIn(["defaults", "adminaddr"], "ops@example.org"));
      // Each host's apply waits for the go file (bounded), so the two applies surely hold their locks at the same time.
      const gate = path.join(split.dir, "gate.sh");
      const go = path.join(split.dir, "go");
      writeFileSync(gate, `i=0; while [ ! -e '${go}' ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done; exec "$@"\n`);
      const exec = `sh '${gate}' node '${path.join(REPO, "bin/mailfleet.js")}'`;
      const again = await mailfleet(["synth", "-i", split.inventory, "--out", out, "--backend", "pg", "--backend-config", "schema_name=mf_split", "--split-by", "front=web1,app1", "--split-by", "back=db1,app2,mx1", "--exec", exec], { env: env() });
      expect(again.code, again.stderr).toBe(0);

      // Then both at once: each holds its own lock while the other holds its own.
      const locks = async () => Number(await pg.sql("select count(*) from pg_locks where locktype = 'advisory' and granted"));
      const apply = (s: string) =>
        startTerraform(dirOf(s), ["apply", "-auto-approve", "-input=false", "-lock-timeout=0s"], env(), transcript).then((p) => ({ code: p.exitCode ?? 1, stdout: String(p.stdout), stderr: String(p.stderr) }));
      const both = Promise.all([apply("mailfleet-front"), apply("mailfleet-back")]);
      await waitFor("both applies to hold their state locks", async () => (await locks()) === 2);
      writeFileSync(go, "");
      const [front, back] = await both;
      expect(front.code, front.stderr).toBe(0);
      expect(back.code, back.stderr).toBe(0);
      expect(front.stdout).toContain("Apply complete! Resources: 2 added, 0 changed, 2 destroyed.");
      expect(back.stdout).toContain("Apply complete! Resources: 3 added, 0 changed, 3 destroyed.");
      expect(await locks()).toBe(0);
      const listed = async (schema: string) => (JSON.parse(await pg.sql(`select data from ${schema}.states`)) as { resources: { name: string }[] }).resources.map((x) => x.name).sort();
      expect(await listed("mf_split_front")).toEqual(["app1", "web1"]);
      expect(await listed("mf_split_back")).toEqual(["app2", "db1", "mx1"]);
      for (const h of HOSTS) expect(readFileSync(path.join(split.dir, "sandbox", h, "opt/local/etc/nullmailer/adminaddr"), "utf8")).toBe("ops@example.org\n");
      for (const s of ["mailfleet-front", "mailfleet-back"]) expect((await terraform(dirOf(s), ["plan", "-detailed-exitcode", "-input=false"], env(), transcript)).code).toBe(0);
    } finally {
      rmSync(split.dir, { recursive: true, force: true });
    }
  });
});
