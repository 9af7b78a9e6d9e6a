import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadInventory } from "../../src/engine/inventory.ts";
import { hostFingerprint } from "../../src/engine/fingerprint.ts";
import { parseBackendConfig } from "../../stacks/backend.ts";
import { applyCommand, terraformName } from "../../stacks/host-exec.ts";
import { synthFleet, type SynthOptions } from "../../stacks/synth.ts";
import { REPO } from "../support/cli.ts";
import { exampleFleet } from "../support/fleet.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const SECRET = `pw-${randomBytes(12).toString("hex")}`;

function fleetDir(): string {
  const { dir } = exampleFleet({ password: { file: "secrets/relay-password" }, secret: SECRET });
  dirs.push(dir);
  return dir;
}

async function synth(dir: string, extra: Partial<SynthOptions> = {}) {
  const inventoryFile = path.join(dir, "zones.yaml");
  const result = await synthFleet({ inventoryFile, hosts: loadInventory(inventoryFile).hosts, outdir: path.join(dir, "cdktf.out"), ...extra });
  return { result, json: JSON.parse(readFileSync(result.file, "utf8")) as Record<string, any>, text: readFileSync(result.file, "utf8") };
}

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

describe("synthesized stack", () => {
  it("terraform_data: one resource per host, triggered by its desired state, running mailfleet apply for that host", async () => {
    const dir = fleetDir();
    const { json, result } = await synth(dir);
    expect(result.stackDir).toBe(path.join(dir, "cdktf.out/stacks/mailfleet"));
    expect(readFileSync(path.join(dir, "cdktf.out/manifest.json"), "utf8")).toContain('"synthesizedStackPath": "stacks/mailfleet/cdk.tf.json"');
    expect(json.terraform.required_version).toBe(">= 1.4");
    expect(json.terraform.required_providers).toBeUndefined();
    expect(json.provider).toBeUndefined();
    const resources = json.resource.terraform_data;
    expect(Object.keys(resources).sort()).toEqual(["db1", "web1"]);
    const hosts = loadInventory(path.join(dir, "zones.yaml")).hosts;
    for (const h of hosts) {
      const r = resources[h.name];
      expect(r.triggers_replace).toEqual({ host: h.name, desired: hostFingerprint(h) });
      expect(r.provisioner).toHaveLength(1);
      const exec = r.provisioner[0]["local-exec"];
      expect(exec.working_dir).toBe("${path.module}");
      expect(exec.environment).toBeUndefined();
      const bin = path.relative(result.stackDir, path.join(REPO, "bin/mailfleet.js"));
      expect(exec.command).toBe(`node ${bin} apply -i ../../../zones.yaml --limit ${h.name} --yes`);
    }
  });

  it("null_resource: the hashicorp/null provider and triggers (synthesized only: no provider download here)", async () => {
    const { json } = await synth(fleetDir(), { resource: "null_resource" });
    expect(json.resource.terraform_data).toBeUndefined();
    expect(Object.keys(json.resource.null_resource).sort()).toEqual(["db1", "web1"]);
    expect(json.resource.null_resource.web1.triggers).toEqual({ host: "web1", desired: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(json.resource.null_resource.web1.provisioner[0]["local-exec"].command).toContain("--limit web1 --yes");
    // "null" is Terraform's short form of registry.terraform.io/hashicorp/null.
    expect(json.terraform.required_providers.null).toEqual({ source: "null", version: expect.stringMatching(/^\d+\.\d+/) });
    expect(json.provider.null).toEqual([{}]);
  });

  it("writes no secret value and no absolute path of this machine", async () => {
    const dir = fleetDir();
    process.env.MF_STACK_PG_PASSWORD_UNUSED = SECRET;
    // The default command points at this checkout's bin/mailfleet.js by a relative path, which spells the checkout's name.
    await synth(dir, { exec: "mailfleet" });
    await synth(dir, { exec: "mailfleet", outdir: path.join(dir, "pg.out"), backend: "pg", backendConfig: { schema_name: "fleet" } });
    delete process.env.MF_STACK_PG_PASSWORD_UNUSED;
    for (const f of [...allFiles(path.join(dir, "cdktf.out")), ...allFiles(path.join(dir, "pg.out"))]) {
      const text = readFileSync(f, "utf8");
      expect(text, f).not.toContain(SECRET);
      expect(text, f).not.toContain(dir);
      expect(text, f).not.toContain(REPO);
    }
  });

  it("is the same file wherever the checkout lives (with --exec naming mailfleet)", async () => {
    const exec = "npx --no-install mailfleet";
    const a = await synth(fleetDir(), { exec });
    const b = await synth(fleetDir(), { exec });
    expect(a.text).toBe(b.text);
    expect(a.json.resource.terraform_data.web1.provisioner[0]["local-exec"].command).toBe(
      "npx --no-install mailfleet apply -i ../../../zones.yaml --limit web1 --yes",
    );
  });

  it("local backend: state beside the inventory by default, as a path relative to the stack", async () => {
    const dir = fleetDir();
    const { json } = await synth(dir);
    expect(json.terraform.backend).toEqual({ local: { path: "../../../terraform.mailfleet.tfstate" } });
    const other = await synth(dir, { stackName: "edge", backendConfig: { path: path.join(dir, "state/edge.tfstate") } });
    expect(other.json.terraform.backend).toEqual({ local: { path: "../../../state/edge.tfstate" } });
  });

  it("pg and s3 backends take Terraform's settings; credentials are refused with the variable to use", async () => {
    const dir = fleetDir();
    const pg = await synth(dir, { backend: "pg", backendConfig: { schema_name: "mailfleet_prod" } });
    expect(pg.json.terraform.backend).toEqual({ pg: { schema_name: "mailfleet_prod" } });
    const s3 = await synth(dir, { backend: "s3", backendConfig: { bucket: "ops-state", region: "eu-central-1" } });
    expect(s3.json.terraform.backend).toEqual({
      s3: { bucket: "ops-state", region: "eu-central-1", key: "mailfleet/mailfleet.tfstate", use_lockfile: "true" },
    });
    await expect(synth(dir, { backend: "pg", backendConfig: { conn_str: "postgres://u:p@db/x" } })).rejects.toThrow(/credential.*PG_CONN_STR/);
    await expect(synth(dir, { backend: "s3", backendConfig: { bucket: "b", secret_key: "x" } })).rejects.toThrow(/AWS_SECRET_ACCESS_KEY/);
    await expect(synth(dir, { backend: "s3" })).rejects.toThrow(/bucket=NAME/);
    await expect(synth(dir, { backend: "local", backendConfig: { bucket: "x" } })).rejects.toThrow(/not a setting of the local backend; allowed: path, workspace_dir/);
    await expect(synth(dir, { backend: "consul" })).rejects.toThrow(/use one of local, pg, s3/);
    await expect(synth(dir, { resource: "aws_instance" })).rejects.toThrow(/terraform_data or null_resource/);
    expect(() => parseBackendConfig(["schema_name"])).toThrow(/key=value/);
    expect(parseBackendConfig(["schema_name=a=b", "skip_table_creation=true"])).toEqual({ schema_name: "a=b", skip_table_creation: "true" });
  });

  it("refuses cdktf's HCL output (the stack is Terraform JSON) and writes nothing", async () => {
    const dir = fleetDir();
    process.env.SYNTH_HCL_OUTPUT = "true";
    try {
      await expect(synth(dir)).rejects.toThrow(/HCL output .* is not supported/);
    } finally {
      delete process.env.SYNTH_HCL_OUTPUT;
    }
    expect(readdirSync(dir).sort()).toEqual(["secrets", "zones.yaml"]);
  });

  it("refuses a host named like a group (its --limit would select the group) and a multi-line --exec", async () => {
    const dir = fleetDir();
    await expect(synth(dir, { groups: ["zones", "web1"] })).rejects.toThrow(/host web1 has the name of a group/);
    await expect(synth(dir, { exec: "mailfleet\nrm -rf /" })).rejects.toThrow(/--exec needs a command on one line/);
    expect(readdirSync(dir).sort()).toEqual(["secrets", "zones.yaml"]);
  });

  it("names every host's resource so Terraform accepts it, without collisions", () => {
    expect(terraformName("web1")).toBe("web1");
    expect(terraformName("db-2_x")).toBe("db-2_x");
    expect(terraformName("1st")).toMatch(/^host_1st_[0-9a-f]{8}$/);
    expect(terraformName("a.b")).toMatch(/^host_a_b_[0-9a-f]{8}$/);
    expect(terraformName("a.b")).not.toBe(terraformName("a_b"));
    expect(terraformName("a.b")).toBe(terraformName("a.b"));
  });

  it("quotes paths and names in the command", () => {
    expect(applyCommand({ stackDir: "/x/my fleet/out/stacks/s", inventoryFile: "/x/my fleet/inv.yaml", host: "h", exec: "mailfleet" })).toBe(
      "mailfleet apply -i ../../../inv.yaml --limit h --yes",
    );
    expect(applyCommand({ stackDir: "/x/out/stacks/s", inventoryFile: "/x/it's here/inv.yaml", host: "h", exec: "mailfleet" })).toBe(
      "mailfleet apply -i '../../../it'\\''s here/inv.yaml' --limit h --yes",
    );
  });
});
