// The package as a user gets it: `npm pack`, the tarball installed into an
// empty directory, `npx mailfleet` run from there, and installed as the
// README says for one user (a prefix whose bin/ holds `mailfleet`). It must work from the
// compiled CLI alone: no tsx, no sources, templates found beside dist/.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { REPO } from "../support/cli.ts";

const tmp = mkdtempSync(path.join(os.tmpdir(), "mf-package-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("the packed tarball", () => {
  it("installs into an empty directory and runs `npx mailfleet validate`", async () => {
    // dist/ is built by the tests' global setup; prepare would only build it again
    const pack = await execa("npm", ["pack", "--ignore-scripts", "--pack-destination", tmp, "--json"], { cwd: REPO });
    const [{ filename, files }] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
    const paths = files.map((f) => f.path);
    expect(paths).toContain("dist/main.js");
    expect(paths).toContain("dist/templates/nullmailer/remotes.hbs.cjs");
    expect(paths.filter((p) => p.startsWith("src/") || p.startsWith("test/") || p.endsWith(".ts"))).toEqual([]);

    const app = path.join(tmp, "app");
    cpSync(path.join(REPO, "examples"), path.join(app, "examples"), { recursive: true, filter: (src) => path.basename(src) !== "sandbox" });
    writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "fleet", private: true }));
    const install = await execa("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", path.join(tmp, filename)], { cwd: app, reject: false });
    expect(install.exitCode, install.stderr).toBe(0);
    expect(existsSync(path.join(app, "node_modules/tsx"))).toBe(false);
    expect(readdirSync(path.join(app, "node_modules/mailfleet")).sort()).toEqual(["README.md", "bin", "dist", "package.json", "schema"]);

    const help = await execa("npx", ["--no-install", "mailfleet", "--help"], { cwd: app, reject: false });
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/validate/);
    const validate = await execa("npx", ["--no-install", "mailfleet", "validate", "-i", "examples/sandbox-fleet.yaml"], { cwd: app, reject: false });
    expect(validate.stderr).toBe("");
    expect(validate.stdout).toBe("inventory examples/sandbox-fleet.yaml is valid: 3 hosts (web1, db1, pi)");
    expect(validate.exitCode).toBe(0);

    // the README's install for one user: the tarball into a prefix, `mailfleet` in its bin/, no checkout needed
    const readme = readFileSync(path.join(REPO, "README.md"), "utf8");
    expect(readme).toContain("npm install -g --prefix ~/.local ./mailfleet-0.1.0.tgz");
    expect(filename).toBe("mailfleet-0.1.0.tgz");
    const prefix = path.join(tmp, "user");
    const user = await execa("npm", ["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", path.join(tmp, filename)], { cwd: tmp, reject: false });
    expect(user.exitCode, user.stderr).toBe(0);
    const installed = await execa(path.join(prefix, "bin/mailfleet"), ["validate", "-i", "examples/sandbox-fleet.yaml"], { cwd: app, reject: false });
    expect([installed.exitCode, installed.stdout]).toEqual([0, "inventory examples/sandbox-fleet.yaml is valid: 3 hosts (web1, db1, pi)"]);
  }, 400_000);
});
