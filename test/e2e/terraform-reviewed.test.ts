// Terraform applies what was reviewed: `synth --plan FILE` makes each host's
// resource apply that host's part of the saved plan, only hosts with changes
// in it are replaced, a host changed since the review is refused as a stale
// plan while the others go on; `synth --refresh` puts what the hosts look like
// now into the triggers, so a hand edit shows in `terraform plan`.
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mailfleet } from "../support/cli.ts";
import { exampleFleet, type ExampleFleet } from "../support/fleet.ts";
import { terraform } from "../support/terraform.ts";

const SECRET = `relay-${randomBytes(16).toString("hex")}`;
const SECRET_ENV = "MF_E2E_RELAY_PASSWORD";
const HOSTS = ["web1", "db1", "app1", "app2"];

interface PlannedChange {
  address: string;
  change: { actions: string[] };
}

describe("terraform applies the reviewed plan and sees drift", () => {
  let fleet: ExampleFleet;
  let stack: string;
  const transcript: string[] = [];
  const env = { [SECRET_ENV]: SECRET };
  const tf = (args: string[]) => terraform(stack, args, env, transcript);
  const mf = async (args: string[]) => {
    const r = await mailfleet(args, { cwd: fleet.dir, env });
    transcript.push(r.stdout, r.stderr);
    return r;
  };
  const sandboxFile = (host: string, file: string) => path.join(fleet.dir, "sandbox", host, file);
  const adminaddr = (host: string) => readFileSync(sandboxFile(host, "opt/local/etc/nullmailer/adminaddr"), "utf8");
  /** Which resources `terraform plan` would replace, from its JSON plan. */
  const replaced = async (): Promise<string[]> => {
    const plan = await tf(["plan", "-input=false", "-out=tfplan"]);
    expect(plan.code, plan.stderr).toBe(0);
    const shown = await tf(["show", "-json", "tfplan"]);
    const changes = (JSON.parse(shown.stdout) as { resource_changes: PlannedChange[] }).resource_changes;
    return changes.filter((c) => !c.change.actions.includes("no-op")).map((c) => c.address.replace("terraform_data.", "")).sort();
  };

  beforeAll(() => {
    fleet = exampleFleet({ password: { env: SECRET_ENV }, secret: SECRET, extraHosts: HOSTS.slice(2) });
    stack = path.join(fleet.dir, "cdktf.out/stacks/mailfleet");
  });
  afterAll(() => {
    if (fleet) rmSync(fleet.dir, { recursive: true, force: true });
  });

  it("the first reviewed plan creates every host; each resource applies its host's part of it", async () => {
    const plan = await mf(["plan", "-i", "zones.yaml", "--out", "review.plan", "--detailed-exitcode"]);
    expect(plan.code, plan.stderr).toBe(2);
    const synth = await mf(["synth", "-i", "zones.yaml", "--plan", "review.plan"]);
    expect(synth.code, synth.stderr).toBe(0);
    expect(synth.stdout).toContain("4 with changes in the reviewed plan");
    const json = JSON.parse(readFileSync(path.join(stack, "cdk.tf.json"), "utf8")) as { resource: { terraform_data: Record<string, { provisioner: { "local-exec": { command: string } }[] }> } };
    expect(json.resource.terraform_data.web1!.provisioner[0]!["local-exec"].command).toMatch(/ apply mailfleet\.plan -i \.\.\/\.\.\/\.\.\/zones\.yaml --host web1$/);
    expect(readFileSync(path.join(stack, "mailfleet.plan"), "utf8")).toBe(readFileSync(path.join(fleet.dir, "review.plan"), "utf8"));

    expect((await tf(["init", "-input=false"])).code).toBe(0);
    const apply = await tf(["apply", "-auto-approve", "-input=false"]);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toContain(`Resources: ${HOSTS.length} added, 0 changed, 0 destroyed.`);
    for (const h of HOSTS) expect(apply.stdout).toContain(`terraform_data.${h} (local-exec): ${h}: applied`);
    expect((await mf(["plan", "-i", "zones.yaml", "--detailed-exitcode"])).code).toBe(0);
    expect(await replaced()).toEqual([]);
  });

  it("terraform plan lists exactly the hosts with changes in the reviewed plan; a host changed since is refused as stale, the others applied", async () => {
    fleet.edit((d) => {
      d.setIn(["groups", "zones", "hosts", "db1", "adminaddr"], "ops@example.org");
      d.setIn(["groups", "zones", "hosts", "app1", "adminaddr"], "ops@example.org");
    });
    const plan = await mf(["plan", "-i", "zones.yaml", "--out", "review.plan", "--detailed-exitcode"]);
    expect(plan.code, plan.stderr).toBe(2);
    expect((await mf(["synth", "-i", "zones.yaml", "--plan", "review.plan"])).code).toBe(0);
    expect(await replaced()).toEqual(["app1", "db1"]);

    // After the review, someone edits app1 by hand.
    writeFileSync(sandboxFile("app1", "opt/local/etc/nullmailer/adminaddr"), "edited@example.org\n");
    const apply = await tf(["apply", "-auto-approve", "-input=false"]);
    expect(apply.code).toBe(1);
    expect(apply.stdout + apply.stderr).toContain("stale plan");
    expect(apply.stdout).toContain("terraform_data.db1 (local-exec): db1: applied");
    expect(apply.stdout).not.toMatch(/terraform_data\.(web1|app2) \(local-exec\)/);
    expect(adminaddr("db1")).toBe("ops@example.org\n");
    expect(adminaddr("app1")).toBe("edited@example.org\n");
  });

  it("without --refresh terraform does not see a hand edit; with it, the hand-edited host is to apply, and after the apply nothing is", async () => {
    writeFileSync(sandboxFile("web1", "opt/local/etc/nullmailer/adminaddr"), "drift@example.org\n");
    // From the reviewed plan alone, web1's edit is invisible: only app1, which failed (tainted), is to run again.
    expect((await mf(["synth", "-i", "zones.yaml", "--plan", "review.plan"])).code).toBe(0);
    expect(await replaced()).toEqual(["app1"]);

    const synth = await mf(["synth", "-i", "zones.yaml", "--refresh"]);
    expect(synth.code, synth.stderr).toBe(0);
    expect(synth.stdout).toContain("2 with changes in the reviewed plan");
    const exit = await tf(["plan", "-detailed-exitcode", "-input=false"]);
    expect(exit.code).toBe(2);
    expect(await replaced()).toEqual(["app1", "web1"]);
    const apply = await tf(["apply", "-input=false", "tfplan"]);
    expect(apply.code, apply.stderr).toBe(0);
    expect(adminaddr("web1")).toBe("root@example.org\n");
    expect(adminaddr("app1")).toBe("ops@example.org\n");

    expect((await mf(["synth", "-i", "zones.yaml", "--refresh"])).code).toBe(0);
    expect((await tf(["plan", "-detailed-exitcode", "-input=false"])).code).toBe(0);
    expect((await mf(["plan", "-i", "zones.yaml", "--detailed-exitcode"])).code).toBe(0);
  });

  it("bad uses are refused and write nothing", async () => {
    const before = readFileSync(path.join(stack, "cdk.tf.json"), "utf8");
    const limit = await mf(["synth", "-i", "zones.yaml", "--plan", "review.plan", "--limit", "web1"]);
    expect(limit.code).toBe(1);
    expect(limit.stderr).toContain("--limit does not narrow a saved plan");
    fleet.edit((d) => d.setIn(["groups", "zones", "hosts", "app2", "adminaddr"], "other@example.org"));
    const foreign = await mf(["synth", "-i", "zones.yaml", "--plan", "review.plan"]);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain("made from another inventory");
    const both = await mf(["synth", "-i", "zones.yaml", "--plan", "review.plan", "--refresh"]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain("choose one");
    const stranger = await mf(["apply", "review.plan", "--host", "nosuch"]);
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toContain("--host nosuch: not in the plan review.plan");
    expect(readFileSync(path.join(stack, "cdk.tf.json"), "utf8")).toBe(before);
  });

  it("the relay password is in no stack, plan copy, state or output", () => {
    for (const f of ["cdktf.out/stacks/mailfleet/cdk.tf.json", "cdktf.out/stacks/mailfleet/mailfleet.plan", "review.plan", "terraform.mailfleet.tfstate"]) {
      expect(readFileSync(path.join(fleet.dir, f), "utf8"), f).not.toContain(SECRET);
    }
    for (const t of transcript) expect(t).not.toContain(SECRET);
  });
});
