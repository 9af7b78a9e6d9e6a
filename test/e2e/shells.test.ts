// Every script mailfleet generates runs under dash, ksh93 (illumos' sh) and
// busybox sh: the example fleet and a fleet of hostile values are planned,
// applied and planned again under each, and must converge to identical trees.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderRemoteLine } from "../../roles/nullmailer/remotes.ts";
import { opensmtpdPlatforms } from "../../roles/opensmtpd/platforms.ts";
import { opensmtpdQueue } from "../../roles/opensmtpd/queue.ts";
import { hostContext } from "../../src/engine/desired.ts";
import { planHost } from "../../src/engine/host.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { applyScript, parseProbeOutput, probeScript } from "../../src/engine/scripts.ts";
import { debian } from "../../src/platforms/debian.ts";
import type { MinVersionResource } from "../../src/resources/types.ts";
import { sh } from "../../src/shell/builder.ts";
import { LocalTransport } from "../../src/transports/local.ts";
import { BARE_NEWLINE_NORMALIZE } from "../../roles/postfix-hub/schema.ts";
import { mailfleet, REPO, withoutProgress } from "../support/cli.ts";
import { nullmailerParse } from "../support/nullmailer-argparse.ts";
import { checkShells, SHELLS, type Shell } from "../support/shells.ts";
import { snapshotTree, type TreeEntry } from "../support/tree.ts";

const tmp = mkdtempSync(path.join(os.tmpdir(), "mf-shells-"));
beforeAll(() => checkShells());
afterAll(() => rmSync(tmp, { recursive: true, force: true }));


const slug = (s: Shell) => s.name.replace(/\W+/g, "-");

/** plan (changes), apply, plan again (none) with MAILFLEET_LOCAL_SHELL set; returns everything printed. */
async function converge(inventory: string, shell: Shell): Promise<string> {
  const env = { MAILFLEET_LOCAL_SHELL: shell.env };
  const first = await mailfleet(["plan", "-i", inventory, "--detailed-exitcode"], { env });
  expect(withoutProgress(first.stderr)).toBe("");
  expect(first.code).toBe(2);
  const applied = await mailfleet(["apply", "-i", inventory, "--yes"], { env });
  expect(withoutProgress(applied.stderr)).toBe("");
  expect(applied.code, applied.stdout.slice(-3000)).toBe(0);
  expect(applied.stdout).not.toContain("not converged");
  const again = await mailfleet(["plan", "-i", inventory, "--detailed-exitcode"], { env });
  expect(again.stdout).toContain("Plan: ");
  expect(again.stdout).toMatch(/no changes\n.*Plan: \d+ hosts?, no changes/s);
  expect(again.code).toBe(0);
  return first.stdout + applied.stdout + first.stderr + applied.stderr + again.stdout + again.stderr;
}

it("MAILFLEET_LOCAL_SHELL really picks the shell", async () => {
  const dir = path.join(tmp, "no-shell");
  mkdirSync(dir);
  cpSync(path.join(REPO, "examples/zones.yaml"), path.join(dir, "zones.yaml"));
  const r = await mailfleet(["plan", "-i", path.join(dir, "zones.yaml")], { env: { MAILFLEET_LOCAL_SHELL: "/nonexistent/sh" } });
  expect(r.code).toBe(1);
});

describe("the example fleet (examples/zones.yaml) under each shell", () => {
  const trees = new Map<string, TreeEntry[]>();

  it.each(SHELLS)("$name: plan, apply and re-plan converge", async (shell) => {
    const dir = path.join(tmp, `zones-${slug(shell)}`);
    mkdirSync(dir);
    cpSync(path.join(REPO, "examples/zones.yaml"), path.join(dir, "zones.yaml"));
    cpSync(path.join(REPO, "examples/secrets"), path.join(dir, "secrets"), { recursive: true });
    await converge(path.join(dir, "zones.yaml"), shell);
    trees.set(shell.name, snapshotTree(path.join(dir, "sandbox")));
  });

  it("leaves identical trees under dash, ksh93 and busybox sh", () => {
    const [dash, ...others] = SHELLS.map((s) => trees.get(s.name));
    expect(dash).toBeDefined();
    const files = dash!.filter((e) => e.type === "file").map((e) => e.path);
    expect(files).toContain("web1/opt/local/etc/nullmailer/remotes");
    expect(files).toContain("db1/etc/mailer.conf");
    expect(dash!.find((e) => e.path === "web1/var/spool/nullmailer/queue")).toMatchObject({ type: "link", content: "/home/nullmailer-spool/queue" });
    expect(dash!.find((e) => e.path === "web1/var/spool/nullmailer/trigger")?.type).toBe("fifo");
    for (const t of others) expect(t).toEqual(dash);
  });
});

describe("hostile values land byte for byte under each shell", () => {
  const trees = new Map<string, TreeEntry[]>();
  const pwned = path.join(tmp, "pwned");
  // The relay user is free text (one line, up to 512 characters); the password comes from a file and may be long.
  const user = `o'brien "q" \\ \\\\ $(touch ${pwned}) \`touch ${pwned}\` \${HOME} %s %b %n \\n \\c \\0101 * ? [a] ünïcödé ☃ 🙂\ttab ${"u".repeat(300)}`;
  const password = `p'w"d \\ $(touch ${pwned}) \`touch ${pwned}\` ''"" %s \\x41 ☃ 🙂 ${"x'\"\\$".repeat(12_000)} end`;
  // Addresses may hold characters a shell treats specially (the schema allows them).
  const adminaddr = "a&b|c{d}~e!#%*+/=?^_.x@example.org";
  const allmailfrom = "x|y&z*{}~#?^=@example.org";
  // Sandboxes whose paths hold quotes, $(...), globs, unicode and the " -> " that ls prints for links.
  const roots = { zone: `sand box/it's "z" $(touch ${pwned}) * -> ünï`, linux: `sand box/l\\i"n'ux \`touch ${pwned}\` ☃` };
  const inventory = `defaults:
  domain: example.org
  adminaddr: ${JSON.stringify(adminaddr)}
  relay:
    host: relay.example.test
    port: 2525
    tls: starttls
    auth:
      user: ${JSON.stringify(user)}
      password: { file: "secrets/it's a password" }
  nullmailer:
    allmailfrom: ${JSON.stringify(allmailfrom)}
hosts:
  zone:
    platform: smartos
    roles: [nullmailer]
    nullmailer: { persistentSpool: /home/nullmailer-spool }
    transport: { type: local, root: ${JSON.stringify(roots.zone)} }
  linux:
    platform: debian
    roles: [nullmailer]
    transport: { type: local, root: ${JSON.stringify(roots.linux)} }
`;

  it.each(SHELLS)("$name: converges, writes the exact bytes, runs nothing it was given", async (shell) => {
    const dir = path.join(tmp, `hostile-${slug(shell)}`);
    mkdirSync(path.join(dir, "secrets"), { recursive: true });
    writeFileSync(path.join(dir, "secrets/it's a password"), `${password}\n`);
    writeFileSync(path.join(dir, "inventory.yaml"), inventory);
    const printed = await converge(path.join(dir, "inventory.yaml"), shell);
    expect(printed).not.toContain(password);
    expect(printed).not.toContain(password.slice(-200));

    const remotesLine = renderRemoteLine({ host: "relay.example.test", port: 2525, tls: "starttls", auth: { user, password: { env: "UNUSED" } } }, { value: () => password, revealed: () => [password] });
    expect(nullmailerParse(remotesLine)).toEqual(["relay.example.test", "smtp", "--port=2525", "--starttls", `--user=${user}`, `--pass=${password}`]);
    const expected: [string, string, string][] = [
      ["zone", "opt/local/etc/nullmailer/remotes", `# Managed by mailfleet for zone.example.org: the relays nullmailer-send tries, in order.\n${remotesLine}\n`],
      ["zone", "opt/local/etc/nullmailer/adminaddr", `${adminaddr}\n`],
      ["zone", "opt/local/etc/nullmailer/allmailfrom", `${allmailfrom}\n`],
      ["zone", "opt/local/etc/nullmailer/me", "zone.example.org\n"],
      ["linux", "etc/nullmailer/remotes", `# Managed by mailfleet for linux.example.org: the relays nullmailer-send tries, in order.\n${remotesLine}\n`],
      ["linux", "etc/nullmailer/adminaddr", `${adminaddr}\n`],
      ["linux", "etc/mailname", "linux.example.org\n"],
    ];
    for (const [host, file, content] of expected) {
      const bytes = readFileSync(path.join(dir, roots[host as keyof typeof roots], file));
      expect(bytes.equals(Buffer.from(content, "utf8")), `${host}:/${file}`).toBe(true);
    }
    expect(existsSync(pwned)).toBe(false);
    trees.set(shell.name, snapshotTree(dir));
  });

  it("leaves identical trees under dash, ksh93 and busybox sh", () => {
    const [dash, ...others] = SHELLS.map((s) => trees.get(s.name));
    expect(dash).toBeDefined();
    expect(dash!.find((e) => e.path === path.join(roots.zone, "var/spool/nullmailer/tmp"))).toMatchObject({ type: "link", content: "/home/nullmailer-spool/tmp" });
    for (const t of others) expect(t).toEqual(dash);
  });
});

describe("OpenSMTPD's queue functions (roles/opensmtpd/queue.ts) on a queue directory", () => {
  it.each(SHELLS)("count and park under $name: the final recipients, the null sender, a bounce left in place", (shell) => {
    const spool = path.join(tmp, `smtpd-${slug(shell)}`);
    const parking = path.join(tmp, `parking-${slug(shell)}`);
    const msg = (id: string, envelopes: Record<string, string>, text: string) => {
      const d = path.join(spool, "queue", id.slice(0, 2), id);
      mkdirSync(d, { recursive: true });
      writeFileSync(path.join(d, "message"), text);
      for (const [evp, body] of Object.entries(envelopes)) writeFileSync(path.join(d, evp), body);
    };
    mkdirSync(path.join(spool, "offline"), { recursive: true });
    mkdirSync(parking, { recursive: true });
    // an alias expanded into two envelopes; the null sender is written "@"
    msg("1a2b3c4d", { "1a2b3c4d00000001": "version: 3\ntype: mta\nsender: @\nrcpt: team@one.example\ndest: bob@one.example\n", "1a2b3c4d00000002": "version: 3\ntype: mda\nsender: @\nrcpt: team@one.example\ndest: alice@one.example\n" }, "Subject: parked\n\n.leading dot\n");
    msg("99887766", { "9988776600000001": "version: 3\ntype: bounce\nsender: x@y.example\ndest: x@y.example\n" }, "Subject: bounce\n\n");
    writeFileSync(path.join(spool, "offline", "1796165047.XXXX"), "-i|--|someone@example.org\nSubject: offline\n\n");
    const q = opensmtpdQueue({ ...opensmtpdPlatforms.debian, spool });
    // smtpctl cannot run here: count falls back to the queue directory
    const run = (body: string) => execFileSync(shell.argv[0]!, [...shell.argv.slice(1), "-c", `R=; set -f\n${q.functions.sh}\n${body}`], { encoding: "utf8" });
    const smtpctl = "/bin/false";
    expect(run(q.count.sh.replace(opensmtpdPlatforms.debian.smtpctl, smtpctl)).trim()).toBe("3");
    // the bounce and the offline submission stay: park says so by failing
    expect(run(`${q.park.sh.replace(opensmtpdPlatforms.debian.smtpctl, smtpctl)} '${parking}' && echo parked || echo kept`).trim()).toBe("kept");
    expect(readFileSync(path.join(parking, "opensmtpd.1a2b3c4d"), "utf8")).toBe("\nbob@one.example\nalice@one.example\n\nSubject: parked\n\n.leading dot\n");
    expect(existsSync(path.join(spool, "queue/1a/1a2b3c4d"))).toBe(false);
    expect(existsSync(path.join(spool, "queue/99/99887766/message"))).toBe(true);
    expect(run(q.count.sh.replace(opensmtpdPlatforms.debian.smtpctl, smtpctl)).trim()).toBe("2");
  });
});

describe("a program's minimum version (src/resources/min-version.ts), compared on the host", () => {
  const resource = (version: string): MinVersionResource => ({
    kind: "minVersion",
    id: "postfix:version",
    program: "Postfix",
    version: sh`printf '%s\\n' ${version}`,
    minimum: [...BARE_NEWLINE_NORMALIZE],
    needs: "smtpd_forbid_bare_newline = normalize",
  });
  const ctx = hostContext(debian, "");
  const verdicts: Record<string, string> = {
    "3.4.14": "old", "3.5.23": "old", "3.5.24": "good", "3.6.13": "old", "3.6.14": "good", "3.7.9": "old", "3.7.10": "good", "3.7.11": "good",
    "3.8.4": "old", "3.8.5": "good", "3.9.0": "good", "3.9": "good", "3.10.2": "good", "4.0.1": "good", "": "missing",
  };
  it.each(SHELLS)("$name: each release's verdict, as the plan reads it", (shell) => {
    for (const [version, verdict] of Object.entries(verdicts)) {
      const out = execFileSync(shell.argv[0]!, [...shell.argv.slice(1)], { input: probeScript([resource(version)], ctx), encoding: "utf8" });
      expect(parseProbeOutput(out)?.get("postfix:version")?.[0], `${shell.name} ${version}`).toBe(version ? `${verdict} ${version}` : "missing");
    }
  });

  it("refuses at plan a host whose release is too old, naming it, and checks again in the apply when it was not installed yet", async () => {
    const inv = path.join(tmp, "version.yaml");
    writeFileSync(inv, "defaults: { domain: example.org, adminaddr: root@example.org, relay: { host: relay.example.org } }\nhosts:\n  h1: { platform: debian, roles: [nullmailer], transport: { type: local } }\n");
    const host = parseInventory(readFileSync(inv, "utf8"), inv).hosts[0]!;
    const target = (version: string) => ({ host, transport: new LocalTransport(), ctx, resources: [resource(version)] });
    await expect(planHost(target("3.7.9"))).rejects.toThrow(
      "refused: Postfix 3.7.9 on the host is too old: smtpd_forbid_bare_newline = normalize needs Postfix 3.5.24, 3.6.14, 3.7.10, 3.8.5, 3.9 or later; upgrade Postfix first; nothing was written on h1",
    );
    expect((await planHost(target("3.7.11"))).changes).toEqual([]);
    const missing = await planHost(target(""));
    expect(missing.changes.map((c) => c.summary)).toEqual(["check that smtpd_forbid_bare_newline = normalize needs Postfix 3.5.24, 3.6.14, 3.7.10, 3.8.5, 3.9 or later, once installed"]);
    // in the apply the package is there by then: an old one fails the apply before anything after it
    for (const shell of SHELLS) {
      const script = applyScript([resource("3.6.2")], missing.changes, ctx);
      let failed = "";
      try {
        execFileSync(shell.argv[0]!, [...shell.argv.slice(1)], { input: script, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
      } catch (e) {
        failed = String((e as { stderr?: string }).stderr);
      }
      expect(failed, shell.name).toContain("mailfleet: Postfix 3.6.2 is too old: smtpd_forbid_bare_newline = normalize needs Postfix 3.5.24");
    }
  });
});

describe("a resource's command never reads the script (its stdin)", () => {
  it.each(SHELLS)("$name: a command that reads stdin to the end leaves the rest of the probe and the apply running", async (shell) => {
    const dir = path.join(tmp, `stdin-${slug(shell)}`);
    mkdirSync(dir);
    const inv = path.join(dir, "i.yaml");
    writeFileSync(inv, "defaults: { domain: example.org, adminaddr: root@example.org, relay: { host: relay.example.org } }\nhosts:\n  h1: { platform: debian, roles: [nullmailer], transport: { type: local } }\n");
    const host = parseInventory(readFileSync(inv, "utf8"), inv).hosts[0]!;
    const eater = path.join(dir, "ate");
    const after = path.join(dir, "after");
    const resources = [
      { kind: "command" as const, id: "t:eat", description: "a command reading stdin", command: sh`cat > ${eater}; echo eaten >> ${eater}`, inputs: [], sources: [], creates: [{ path: eater, mode: 0o644 }] },
      { kind: "file" as const, id: "t:after", path: after, content: "written after it\n", mode: 0o644 },
    ];
    const run = (script: string) => execFileSync(shell.argv[0]!, [...shell.argv.slice(1)], { input: script, encoding: "utf8" });
    const ctx = hostContext(debian, "");
    const facts = parseProbeOutput(run(probeScript(resources, ctx)));
    expect([...facts!.keys()]).toEqual(["t:eat", "t:after"]);
    const plan = await planHost({ host, transport: new LocalTransport(), ctx, resources });
    run(applyScript(resources, plan.changes, ctx));
    expect(readFileSync(after, "utf8")).toBe("written after it\n");
    expect(readFileSync(eater, "utf8")).toBe("eaten\n");
  });
});
