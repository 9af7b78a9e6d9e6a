// The synthesized stack driven by the real terraform binary on the example
// fleet (sandboxes under a temp directory): init offline, plan, apply, no-op
// plan, then one host's settings change and only that host is replaced.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mailfleet, REPO } from "../support/cli.ts";
import { exampleFleet, type ExampleFleet } from "../support/fleet.ts";
import { terraform } from "../support/terraform.ts";

const SECRET = `relay-${randomBytes(16).toString("hex")}`;
const SECRET_ENV = "MF_E2E_RELAY_PASSWORD";

function allFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

interface PlannedChange {
  address: string;
  change: { actions: string[] };
}

describe("terraform stack, local backend, example fleet", () => {
  let fleet: ExampleFleet;
  let stack: string;
  const transcript: string[] = [];
  const tf = (args: string[]) => terraform(stack, args, { [SECRET_ENV]: SECRET }, transcript);
  const synth = async () => {
    const r = await mailfleet(["synth", "-i", fleet.inventory, "--out", path.join(fleet.dir, "cdktf.out")]);
    transcript.push(r.stdout, r.stderr);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("synthesized 2 hosts as terraform_data (backend local)");
  };
  const sandboxFile = (host: string, p: string) => path.join(fleet.dir, "sandbox", host, p);

  beforeAll(() => {
    fleet = exampleFleet({ password: { env: SECRET_ENV }, secret: SECRET });
    stack = path.join(fleet.dir, "cdktf.out/stacks/mailfleet");
  });
  afterAll(() => rmSync(fleet.dir, { recursive: true, force: true }));

  it("init works offline: terraform_data needs no provider", async () => {
    await synth();
    const init = await tf(["init", "-input=false"]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain("terraform.io/builtin/terraform is built in to Terraform");
    expect(allFiles(path.join(stack, ".terraform")).filter((f) => f.includes("providers"))).toEqual([]);
  });

  it("plan shows both hosts to create (exit 2), apply writes the sandboxes, the next plan is empty (exit 0)", async () => {
    const plan = await tf(["plan", "-detailed-exitcode", "-input=false"]);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toContain("Plan: 2 to add, 0 to change, 0 to destroy.");

    const apply = await tf(["apply", "-auto-approve", "-input=false"]);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toContain("Apply complete! Resources: 2 added, 0 changed, 0 destroyed.");
    expect(apply.stdout).toMatch(/terraform_data\.web1 \(local-exec\): web1: applied \d+ changes, verified/);
    // The password reached the host through mailfleet at apply time, and only there.
    const remotes = sandboxFile("web1", "opt/local/etc/nullmailer/remotes");
    expect(readFileSync(remotes, "utf8")).toContain(`--pass=${SECRET}`);
    expect(statSync(remotes).mode & 0o777).toBe(0o600);
    expect(readFileSync(sandboxFile("db1", "opt/local/etc/nullmailer/adminaddr"), "utf8")).toBe("root@example.org\n");
    expect(existsSync(path.join(fleet.dir, "terraform.mailfleet.tfstate"))).toBe(true);

    const again = await tf(["plan", "-detailed-exitcode", "-input=false"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("No changes.");
  });

  it("mailfleet itself agrees: nothing left to change on either host", async () => {
    const r = await mailfleet(["plan", "-i", fleet.inventory, "--detailed-exitcode"], { env: { [SECRET_ENV]: SECRET } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it("a change to one host's settings replaces that host only; after apply the plan is empty", async () => {
    const web1Remotes = sandboxFile("web1", "opt/local/etc/nullmailer/remotes");
    const web1Before = statSync(web1Remotes).mtimeMs;
    fleet.edit((d) => d.setIn(["groups", "zones", "hosts", "db1", "adminaddr"], "ops@example.org"));
    await synth();

    const plan = await tf(["plan", "-detailed-exitcode", "-input=false", "-out=tfplan"]);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toContain("Plan: 1 to add, 0 to change, 1 to destroy.");
    const shown = await tf(["show", "-json", "tfplan"]);
    const changes = (JSON.parse(shown.stdout) as { resource_changes: PlannedChange[] }).resource_changes;
    expect(Object.fromEntries(changes.map((c) => [c.address, c.change.actions]))).toEqual({
      "terraform_data.db1": ["delete", "create"],
      "terraform_data.web1": ["no-op"],
    });

    const apply = await tf(["apply", "-input=false", "tfplan"]);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toContain("Resources: 1 added, 0 changed, 1 destroyed.");
    expect(apply.stdout).not.toContain("terraform_data.web1 (local-exec)");
    expect(readFileSync(sandboxFile("db1", "opt/local/etc/nullmailer/adminaddr"), "utf8")).toBe("ops@example.org\n");
    expect(statSync(web1Remotes).mtimeMs).toBe(web1Before);

    const again = await tf(["plan", "-detailed-exitcode", "-input=false"]);
    expect(again.code, again.stderr).toBe(0);
  });

  it("the secret appears in no synth output, no state and no terraform output", async () => {
    const pulled = await tf(["state", "pull"]);
    expect(pulled.code).toBe(0);
    expect(JSON.parse(pulled.stdout).resources).toHaveLength(2);
    const files = [
      ...allFiles(path.join(fleet.dir, "cdktf.out")),
      ...readdirSync(fleet.dir).filter((n) => n.includes("tfstate")).map((n) => path.join(fleet.dir, n)),
    ];
    expect(files.some((f) => f.endsWith("terraform.mailfleet.tfstate"))).toBe(true);
    expect(files.some((f) => f.endsWith("tfplan"))).toBe(true);
    for (const f of files) expect(readFileSync(f).includes(SECRET), f).toBe(false);
    // The saved plan is compressed, so its content is checked through `terraform show -json tfplan`, which is in the transcript.
    expect(transcript.length).toBeGreaterThan(8);
    for (const t of transcript) expect(t).not.toContain(SECRET);
  });
});

describe("cdktf.json", () => {
  it("its app command synthesizes the stack as the cdktf CLI runs it (CDKTF_OUTDIR, context), and terraform validates it", async () => {
    const config = JSON.parse(readFileSync(path.join(REPO, "cdktf.json"), "utf8")) as { app: string; context: object };
    const outdir = path.join(REPO, "tmp", `cdktf-app-${process.pid}`);
    const defaultOutBefore = existsSync(path.join(REPO, "cdktf.out")) ? statSync(path.join(REPO, "cdktf.out")).mtimeMs : null;
    try {
      const r = await execa("/bin/sh", ["-c", config.app], {
        cwd: REPO,
        env: { CDKTF_OUTDIR: outdir, CDKTF_CONTEXT_JSON: JSON.stringify(config.context), NO_COLOR: "1" },
        reject: false,
      });
      expect(r.exitCode, String(r.stderr)).toBe(0);
      // Written where the cdktf CLI said, not to the --out of the app command.
      expect(existsSync(path.join(REPO, "cdktf.out")) ? statSync(path.join(REPO, "cdktf.out")).mtimeMs : null).toBe(defaultOutBefore);
      const manifest = JSON.parse(readFileSync(path.join(outdir, "manifest.json"), "utf8")) as { stacks: Record<string, { synthesizedStackPath: string }> };
      expect(Object.keys(manifest.stacks)).toEqual(["mailfleet"]);
      const stackDir = path.join(outdir, "stacks/mailfleet");
      const json = JSON.parse(readFileSync(path.join(outdir, manifest.stacks.mailfleet!.synthesizedStackPath), "utf8"));
      expect(Object.keys(json.resource.terraform_data).sort()).toEqual(["db1", "pi", "web1"]);
      expect(json.resource.terraform_data.pi.provisioner[0]["local-exec"].command).toBe(
        "node ../../../../bin/mailfleet.js apply -i ../../../../examples/sandbox-fleet.yaml --limit pi --yes",
      );
      const transcript: string[] = [];
      const init = await terraform(stackDir, ["init", "-backend=false", "-input=false"], {}, transcript);
      expect(init.code, init.stderr).toBe(0);
      const validate = await terraform(stackDir, ["validate"], {}, transcript);
      expect(validate.code, validate.stderr + validate.stdout).toBe(0);
      expect(validate.stdout).toContain("The configuration is valid.");
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe("mailfleet synth, bad input", () => {
  it("refuses a pg connection string on the command line and writes nothing", async () => {
    const fleet = exampleFleet({ password: { env: SECRET_ENV }, secret: SECRET });
    try {
      const out = path.join(fleet.dir, "out");
      const r = await mailfleet(["synth", "-i", fleet.inventory, "--out", out, "--backend", "pg", "--backend-config", "conn_str=postgres://u:hunter2@db/tf"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("--backend-config conn_str is a credential and would be written into the stack's JSON; set PG_CONN_STR");
      expect(existsSync(out)).toBe(false);
      const bad = await mailfleet(["synth", "-i", fleet.inventory, "--out", out, "--resource", "aws_instance"]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("terraform_data or null_resource");
      expect(existsSync(out)).toBe(false);
    } finally {
      rmSync(fleet.dir, { recursive: true, force: true });
    }
  });

  it("only synth loads cdktf: the other commands do not pay for it", async () => {
    const cdktfLoaded = async (args: string[]) => {
      const script = `
        import { createRequire } from "node:module";
        const { main } = await import(${JSON.stringify(path.join(REPO, "src/cli/main.ts"))});
        const code = await main(["node", "mailfleet", ...${JSON.stringify(args)}]);
        const cache = Object.keys(createRequire(import.meta.url).cache);
        console.log(JSON.stringify({ code, cdktf: cache.some((k) => k.includes("/node_modules/cdktf/")) }));`;
      const r = await execa(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: REPO, reject: false });
      expect(r.exitCode, String(r.stderr)).toBe(0);
      return JSON.parse(String(r.stdout).trim().split("\n").at(-1)!) as { code: number; cdktf: boolean };
    };
    const inventory = path.join(REPO, "examples/zones.yaml");
    expect(await cdktfLoaded(["validate", "-i", inventory])).toEqual({ code: 0, cdktf: false });
    const out = path.join(REPO, "tmp", `lazy-${process.pid}`);
    try {
      expect(await cdktfLoaded(["synth", "-i", inventory, "--out", out])).toEqual({ code: 0, cdktf: true });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
