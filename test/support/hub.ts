// A hub the postfix-hub and dovecot roles configure, run on this machine: a
// Postfix instance of the unpacked package (test/support/postfix.ts) and the
// test's Dovecot (test/support/dovecot.ts) started from what the dovecot
// role wrote. The test writes the inventory, using the fragments below for
// what makes this an instance here; nothing the roles render is edited.
//
// What differs from a real hub (all through the roles' data or the
// inventory): Postfix's paths point at an instance, its services are not
// chrooted, and Dovecot's sockets for it lie where the unprivileged test
// Dovecot can create them (hubInstanceData); Dovecot's users, the owner of
// the passwd-file and the mail owner are the one unprivileged user Dovecot
// runs as here (DOVECOT_USER), which may read the TLS key; Dovecot is started
// by the test after the first apply, so that apply leaves out its service.
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { stripVTControlCharacters } from "node:util";
import { dovecot as dovecotRole } from "../../roles/dovecot/index.ts";
import type { DovecotData } from "../../roles/dovecot/platforms.ts";
import type { PostfixSockets } from "../../roles/postfix-hub/sockets.ts";
import { postfixHub } from "../../roles/postfix-hub/index.ts";
import { formatPlan } from "../../src/cli/report.ts";
import { checkDesired, hostContext } from "../../src/engine/desired.ts";
import { applyHost, planHost, type HostTarget } from "../../src/engine/host.ts";
import type { HostConfig } from "../../src/engine/inventory.ts";
import type { HostPlan } from "../../src/engine/plan.ts";
import { roleResources } from "../../src/engine/roles.ts";
import { revealingResolver } from "../../src/inventory/secrets.ts";
import type { Resource } from "../../src/resources/types.ts";
import { LocalTransport } from "../../src/transports/local.ts";
import { everyStep } from "./cleanup.ts";
import { serviceBridge } from "./service-bridge.ts";
import { DOVECOT_USER, dovecotRoleDir, startDovecot, withTestDovecot, type Dovecot } from "./dovecot.ts";
import { hubFragments, type HubFragments } from "./inventory.ts";
import { ensurePostfixAccounts, freePort, hubInstanceData, instancePlatform, POSTFIX_LIB, postfixInstance, type PostfixInstance } from "./postfix.ts";

export interface TestHub {
  postfix: PostfixInstance;
  /** The port smtpd listens on (hub.port). */
  port: number;
  /** The temp dir of Dovecot's files: etc/, vmail/, tls/, sockets/. */
  data: string;
  dovecotData: DovecotData;
  dovecot?: Dovecot;
  /** Inventory fragments (test/support/inventory.ts): the instance's main.cf entries, the TLS files, the mail owner, the mail base. */
  fragments: HubFragments;
  /** The hub's roles as a target on this machine (packages and MTA switches left out: Postfix and Dovecot are unpacked, the switch has its own test). */
  target(host: HostConfig, fleet: readonly HostConfig[]): HostTarget;
  /** Plans and applies `t`; the plan as printed (without colours), with `hide` masked. */
  apply(t: HostTarget, hide?: readonly string[]): Promise<{ plan: HostPlan; text: string }>;
  /** Starts Dovecot from the config the dovecot role wrote (after the first apply); its listeners on `addresses` (default 127.0.0.1). */
  startDovecot(opts?: { addresses?: string[] }): Promise<Dovecot>;
  /** Postfix's master pid, Dovecot's master pid. */
  pids(): [string, string];
  close(): Promise<void>;
}

export async function testHub(name: string, cn: string): Promise<TestHub> {
  process.env.LD_LIBRARY_PATH = POSTFIX_LIB;
  await ensurePostfixAccounts();
  const { data, dovecotData: base } = dovecotRoleDir(`mf-${name}-dovecot-`, cn, ["sockets"]);
  const sockets: PostfixSockets = { lmtp: path.join(data, "sockets/dovecot-lmtp"), auth: path.join(data, "sockets/auth"), user: "postfix", group: "postfix" };
  const dovecotData = base;
  const postfix = postfixInstance(name);
  const port = await freePort();
  // an apply that stops Dovecot (a mail store move) and starts it again asks this process to
  const bridge = serviceBridge({ stop: async () => hub.dovecot!.stop(), start: async () => hub.dovecot!.start() });
  const hub: TestHub = {
    postfix,
    port,
    data,
    dovecotData,
    fragments: hubFragments(postfix.settings, data, DOVECOT_USER),
    target(host, fleet) {
      const platform = withTestDovecot(instancePlatform(postfix), dovecotData.service, () => hub.dovecot, bridge);
      const secrets = revealingResolver(host.inventoryDir);
      const skip = (r: Resource) =>
        r.kind === "package" || r.kind === "mtaHandover" || r.kind === "parkedMail" || (r.kind === "service" && r.name === dovecotData.service && !hub.dovecot);
      // Postfix as an instance here: its sockets (which Dovecot opens for it) in the test's directory
      const dataOf = { [postfixHub.name]: hubInstanceData(postfix, sockets), [dovecotRole.name]: dovecotData };
      const resources = [
        ...roleResources(postfixHub, host, { platform, data: dataOf[postfixHub.name], dataOf, secrets, fleet }),
        ...roleResources(dovecotRole, host, { platform, data: dovecotData, dataOf, secrets, fleet }),
      ].filter((r) => !skip(r));
      checkDesired(host.name, resources);
      return { host, transport: new LocalTransport(), ctx: hostContext(platform, ""), resources };
    },
    async apply(t, hide = []) {
      const plan = await planHost(t);
      const result = await applyHost(t, plan).catch((e: Error & { detail?: string }) => {
        throw new Error(`${e.message}\n${e.detail ?? ""}\n${postfix.log()}\n${hub.dovecot?.log() ?? ""}`);
      });
      if (result.remaining.length) throw new Error(`apply left changes: ${JSON.stringify(result.remaining)}`);
      // as printed, without colours (picocolors turns them on when CI is set)
      return { plan, text: stripVTControlCharacters(formatPlan(plan, [...hide])) };
    },
    async startDovecot(opts = {}) {
      hub.dovecot = await startDovecot({ config: dovecotData.config, ...opts });
      return hub.dovecot;
    },
    pids: () => [readFileSync(path.join(postfix.queue, "pid/master.pid"), "utf8").trim(), readFileSync(path.join(hub.dovecot!.baseDir, "master.pid"), "utf8").trim()],
    close: () => everyStep([() => bridge.close(), () => hub.dovecot?.close(), () => postfix.stop(), () => rmSync(data, { recursive: true, force: true })]),
  };
  return hub;
}
