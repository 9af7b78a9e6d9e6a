// The rspamd role against Debian's real rspamd 3.4 (unpacked, see
// test/support/rspamd.ts): the local.d files it writes pass `rspamadm
// configtest` (the check that runs before every restart; a broken file fails
// it), rspamd started with them takes the inventory's action thresholds and
// refuses GTUBE, and a changed threshold changes exactly one file.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rspamdPlatforms } from "../../roles/rspamd/platforms.ts";
import { rspamd as rspamdRole } from "../../roles/rspamd/index.ts";
import { hostContext } from "../../src/engine/desired.ts";
import { applyHost, planHost, type HostTarget } from "../../src/engine/host.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { roleResources } from "../../src/engine/roles.ts";
import { maskingResolver } from "../../src/inventory/secrets.ts";
import { debian } from "../../src/platforms/debian.ts";
import type { ServiceResource } from "../../src/resources/types.ts";
import { LocalTransport } from "../../src/transports/local.ts";
import { rspamadmConfigtest, RSPAMD_STOCK_CONF, startRspamd, type Rspamd } from "../support/rspamd.ts";

const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
const OFFLINE = "[rbl, fuzzy_check, asn, phishing, neural, replies, url_redirector, history_redis, greylist, ratelimit]";

const tmp = mkdtempSync(path.join(os.tmpdir(), "mf-rspamd-role-"));
chmodSync(tmp, 0o755);
const localConfDir = path.join(tmp, "etc-rspamd");
let daemon: Rspamd | undefined;
afterAll(async () => {
  await daemon?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function target(reject: number): HostTarget {
  const host = parseInventory(
    `hosts:
  scan1:
    platform: debian
    domain: example.org
    roles: [rspamd]
    rspamd: { actions: { addHeader: 5, reject: ${reject} }, disable: ${OFFLINE} }
`,
    path.join(tmp, "inventory.yaml"),
  ).hosts[0]!;
  const data = { ...rspamdPlatforms.debian, confDir: RSPAMD_STOCK_CONF, localConfDir };
  // rspamd is unpacked, not installed, and the test starts it itself: no package or service steps
  const all = roleResources(rspamdRole, host, { platform: debian, data, secrets: maskingResolver });
  return {
    host,
    transport: new LocalTransport(),
    ctx: hostContext(debian, ""),
    resources: all.filter((r) => r.kind !== "package" && r.kind !== "service"),
  };
}

async function actions(d: Rspamd): Promise<Record<string, number>> {
  const r = await fetch(`http://127.0.0.1:${d.controllerPort}/actions`);
  const list = (await r.json()) as { action: string; value: number }[];
  return Object.fromEntries(list.map((a) => [a.action, a.value]));
}

describe("role rspamd with Debian's rspamd 3.4", () => {
  beforeAll(async () => {
    const t = target(11);
    const plan = await planHost(t);
    const result = await applyHost(t, plan);
    expect(result.remaining).toEqual([]);
    chmodSync(localConfDir, 0o755);
  });

  it("checks the configuration with rspamadm configtest before a restart", () => {
    const all = roleResources(rspamdRole, target(11).host, { platform: debian, secrets: maskingResolver });
    const service = all.find((r): r is ServiceResource => r.kind === "service")!;
    expect(service.check?.sh).toBe("/usr/bin/rspamadm --var=CONFDIR=/etc/rspamd --var=LOCAL_CONFDIR=/etc/rspamd configtest -c /etc/rspamd/rspamd.conf >/dev/null");
    expect(service.inputs).toContain("rspamd:actions.conf");
  });

  it("writes local.d files that rspamadm configtest accepts; a broken one fails it", async () => {
    expect(readFileSync(path.join(localConfDir, "local.d/actions.conf"), "utf8")).toMatch(/^add_header = 5;\nreject = 11;$/m);
    expect(readFileSync(path.join(localConfDir, "local.d/rbl.conf"), "utf8")).toMatch(/^enabled = false;$/m);
    const ok = await rspamadmConfigtest({ localConfDir });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);

    const broken = mkdtempSync(path.join(tmp, "broken-"));
    chmodSync(broken, 0o755);
    mkdirSync(path.join(broken, "local.d"));
    writeFileSync(path.join(broken, "local.d/actions.conf"), "reject = 11;\n}} {\n");
    const bad = await rspamadmConfigtest({ localConfDir: broken });
    expect(bad.code).not.toBe(0);
  });

  it("rspamd runs with the inventory's thresholds and refuses GTUBE", async () => {
    daemon = await startRspamd({ localConfDir });
    expect(await actions(daemon)).toMatchObject({ reject: 11, "add header": 5 });
    const scan = await daemon.scan(`From: a@example.org\r\nTo: b@example.org\r\nSubject: gtube\r\n\r\n${GTUBE}\r\n`);
    expect(scan.action).toBe("reject");
  }, 240_000);

  it("a changed threshold changes actions.conf and nothing else; rspamd takes it after the restart", async () => {
    const t = target(12);
    const plan = await planHost(t);
    expect(plan.changes.map((c) => c.id)).toEqual(["rspamd:actions.conf"]);
    expect(plan.changes[0]!.diff).toMatch(/^-reject = 11;\n\+reject = 12;$/m);
    expect((await applyHost(t, plan)).remaining).toEqual([]);
    await daemon!.restart();
    expect(await actions(daemon!)).toMatchObject({ reject: 12 });
    expect((await planHost(target(12))).changes).toEqual([]);
  }, 240_000);
});
