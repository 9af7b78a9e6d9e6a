import { describe, expect, it } from "vitest";
import { InventoryError } from "../../src/inventory/errors.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { becomePrefix, connectionFailure, connectionKey, sshArgv, type SshTarget } from "../../src/transports/ssh.ts";
import { zloginCommand } from "../../src/transports/zlogin.ts";
import { jexecCommand } from "../../src/transports/jexec.ts";
import { freebsd } from "../../src/platforms/freebsd.ts";
import { debian } from "../../src/platforms/debian.ts";
import { smartos } from "../../src/platforms/smartos.ts";

function inventoryWith(transport: string): string {
  return `defaults:
  domain: example.org
  adminaddr: root@example.org
  relay: { host: 10.0.0.1 }
hosts:
  h1:
    platform: debian
    roles: [nullmailer]
    transport: ${transport}
`;
}

function problems(transport: string): string {
  try {
    parseInventory(inventoryWith(transport), "/srv/fleet/inventory.yaml");
  } catch (e) {
    if (e instanceof InventoryError) return e.message;
    throw e;
  }
  return "";
}

describe("ssh and zlogin transport settings", () => {
  it("accepts the documented keys and resolves a relative identityFile against the inventory", () => {
    const inv = parseInventory(
      inventoryWith(
        "{ type: ssh, address: mx1.example.org, port: 2222, user: admin, identityFile: keys/id_ed25519, jump: 'bastion@gw.example.org:22,gw2', options: { ServerAliveInterval: 10, UserKnownHostsFile: /etc/fleet/known_hosts }, root: /srv/sandbox }",
      ),
      "/srv/fleet/inventory.yaml",
    );
    const t = inv.hosts[0]!.transport;
    expect(t).toMatchObject({ type: "ssh", address: "mx1.example.org", identityFile: "/srv/fleet/keys/id_ed25519", root: "/srv/sandbox" });
  });

  it("lets a group give the connection and each host its root prefix, and says what the merged host lacks", () => {
    const text = (hostTransport: string) => `defaults:
  domain: example.org
  adminaddr: root@example.org
  relay: { host: 10.0.0.1 }
groups:
  zones:
    platform: smartos
    roles: [nullmailer]
    transport: { type: ssh, user: admin, port: 2222 }
    hosts:
      z1: { transport: ${hostTransport} }
`;
    const inv = parseInventory(text("{ type: ssh, address: z1.example.org, root: /srv/z1 }"), "/srv/fleet/inventory.yaml");
    expect(inv.hosts[0]!.transport).toEqual({ type: "ssh", user: "admin", port: 2222, address: "z1.example.org", root: "/srv/z1" });
    expect(() => parseInventory(text("{ type: ssh, root: /srv/z1 }"), "/srv/fleet/inventory.yaml")).toThrow(/transport\.address: is required/);
  });

  it("accepts zlogin by uuid or alias, through a global zone or directly", () => {
    expect(problems("{ type: zlogin, zone: 4b5c6d7e-1111-2222-3333-444455556666, via: { address: gz1.example.org, user: admin } }")).toBe("");
    expect(problems("{ type: zlogin, zone: web1 }")).toBe("");
  });

  it("accepts jexec by jail name or jid, through the jail host or directly", () => {
    expect(problems("{ type: jexec, jail: web1, via: { address: jailhost.example.org, user: admin } }")).toBe("");
    expect(problems("{ type: jexec, jail: '12', root: /srv/sandbox }")).toBe("");
    expect(jexecCommand("web1", [])).toBe("jexec web1 /bin/sh -s");
    expect(jexecCommand("12", becomePrefix({ user: "admin" }, freebsd.become))).toBe("sudo -n jexec 12 /bin/sh -s");
    expect(freebsd.upstreamVersion("3.9.1_2,1")).toBe("3.9.1");
    expect(freebsd.upstreamVersion("2.0_3")).toBe("2.0");
  });

  it.each([
    ["an address with a shell character", "{ type: ssh, address: 'a;reboot' }", "transport.address"],
    ["an address that ssh would read as an option", "{ type: ssh, address: -oProxyCommand=x }", "transport.address"],
    ["a user starting with '-'", "{ type: ssh, address: h, user: -lroot }", "transport.user"],
    ["an option key that is not letters", "{ type: ssh, address: h, options: { 'Proxy Command': x } }", "ssh_config keyword"],
    ["an option value with a space", "{ type: ssh, address: h, options: { ProxyCommand: 'nc %h %p' } }", "one word without spaces"],
    ["an option value with a newline", "{ type: ssh, address: h, options: { User: \"a\\nb\" } }", "one word without spaces"],
    ["a ProxyJump that is an option", "{ type: ssh, address: h, options: { ProxyJump: -oProxyCommand=touch } }", "transport.options.ProxyJump: \"-oProxyCommand=touch\" is not allowed; one word"],
    ["a Hostname that is an option", "{ type: ssh, address: h, options: { Hostname: -oProxyCommand=x } }", "transport.options.Hostname"],
    ["any option value starting with '-'", "{ type: zlogin, zone: z1, via: { address: gz, options: { User: -x } } }", "transport.via.options.User"],
    ["an option the transport owns", "{ type: ssh, address: h, options: { StrictHostKeyChecking: 'no' } }", "hostKeyChecking"],
    ["a ControlPath", "{ type: ssh, address: h, options: { ControlPath: /tmp/x } }", "manages the multiplexed connection"],
    ["a relative root on a remote host", "{ type: ssh, address: h, root: sandbox/h1 }", "an absolute path"],
    ["a jump host with a space", "{ type: ssh, address: h, jump: 'gw -v' }", "jump host"],
    ["a zone with a quote", "{ type: zlogin, zone: \"web'1\" }", "zone uuid or alias"],
    ["a jail with a space", "{ type: jexec, jail: 'web 1' }", "jail name or jid"],
    ["a jail starting with '-'", "{ type: jexec, jail: -l }", "jail name or jid"],
    ["a jail with $(...)", "{ type: jexec, jail: '$(reboot)' }", "jail name or jid"],
    ["an unknown key", "{ type: ssh, address: h, password: x }", "password"],
  ])("rejects %s with file:line and what is allowed", (_what, transport, expected) => {
    const msg = problems(transport);
    expect(msg).toMatch(/^\/srv\/fleet\/inventory\.yaml:\d+:\d+: |inventory\.yaml:\d+:\d+: /m);
    expect(msg).toContain(expected);
  });
});

const target: SshTarget = {
  address: "mx1.example.org",
  port: 2222,
  user: "admin",
  identityFile: "/keys/id",
  jump: "gw",
  options: { UserKnownHostsFile: "/etc/kh", ConnectTimeout: 3 },
};

describe("ssh argv", () => {
  const argv = sshArgv(target, "/tmp/mf-ssh-x/abc", ["-T", "--", "mx1.example.org", "sudo -n /bin/sh -s"]);

  it("puts the inventory's options first, so they win over mailfleet's defaults (ssh keeps the first value)", () => {
    expect(argv.slice(0, 4)).toEqual(["-o", "UserKnownHostsFile=/etc/kh", "-o", "ConnectTimeout=3"]);
    expect(argv.indexOf("ConnectTimeout=3")).toBeLessThan(argv.indexOf("ConnectTimeout=20"));
  });

  it("checks host keys strictly, never prompts, multiplexes over a private socket", () => {
    for (const o of ["BatchMode=yes", "StrictHostKeyChecking=yes", "ControlMaster=auto", "ControlPath=/tmp/mf-ssh-x/abc", "IdentitiesOnly=yes"]) {
      expect(argv).toContain(o);
    }
    expect(argv).toEqual(expect.arrayContaining(["-p", "2222", "-l", "admin", "-i", "/keys/id", "-J", "gw"]));
    expect(argv.slice(-4)).toEqual(["-T", "--", "mx1.example.org", "sudo -n /bin/sh -s"]);
  });

  it("opts out of host key checking only when asked", () => {
    expect(sshArgv({ address: "h", hostKeyChecking: "accept-new" }, "/s", [])).toContain("StrictHostKeyChecking=accept-new");
    const off = sshArgv({ address: "h", hostKeyChecking: "off" }, "/s", []);
    expect(off).toContain("StrictHostKeyChecking=no");
    expect(off).toContain("UserKnownHostsFile=/dev/null");
  });

  it("escalates only when the login is not root: sudo -n on Linux, pfexec on SmartOS", () => {
    expect(becomePrefix({ user: "root" }, debian.become)).toEqual([]);
    expect(becomePrefix({}, debian.become)).toEqual([]);
    expect(becomePrefix({ user: "admin" }, debian.become)).toEqual(["sudo", "-n"]);
    expect(becomePrefix({ user: "admin" }, smartos.become)).toEqual(["pfexec"]);
    expect(becomePrefix({ user: "admin", become: "none" }, debian.become)).toEqual([]);
    expect(becomePrefix({ become: "sudo" }, smartos.become)).toEqual(["sudo", "-n"]);
  });

  it("names one connection per machine, whatever order the options come in", () => {
    const a = connectionKey({ address: "gz", options: { A: "1", B: "2" }, become: "pfexec" });
    const b = connectionKey({ address: "gz", options: { B: "2", A: "1" } });
    expect(a).toBe(b);
    expect(connectionKey({ address: "gz", options: { A: "1" } })).not.toBe(a);
  });
});

describe("zlogin command", () => {
  it("enters a zone by uuid with the script on stdin", () => {
    expect(zloginCommand("4b5c6d7e-1111-2222-3333-444455556666", [])).toBe("zlogin -Q 4b5c6d7e-1111-2222-3333-444455556666 /bin/sh -s");
    expect(zloginCommand("4b5c6d7e-1111-2222-3333-444455556666", ["pfexec"])).toMatch(/^pfexec zlogin -Q /);
  });

  it("resolves an alias with vmadm in the same command (no extra round trip)", () => {
    expect(zloginCommand("web1", ["pfexec"])).toBe(
      `pfexec /bin/sh -c 'z=$(vmadm lookup -1 alias=web1 </dev/null) && exec zlogin -Q "$z" /bin/sh -s'`,
    );
  });
});

describe("ssh failures", () => {
  const t: SshTarget = { address: "127.0.0.1", port: 2222, user: "root", identityFile: "/k/id" };

  it.each([
    ["Connection refused", "ssh: connect to host 127.0.0.1 port 2222: Connection refused", /^unreachable: connect to host 127\.0\.0\.1 port 2222: Connection refused$/],
    ["a wrong key", "root@127.0.0.1: Permission denied (publickey).", /^authentication failed for root@127\.0\.0\.1:2222: Permission denied \(publickey\) with key \/k\/id$/],
    [
      "an unknown host key",
      "No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\nHost key verification failed.",
      /host key of root@127\.0\.0\.1:2222 is unknown .*ssh-keyscan -p 2222 127\.0\.0\.1.*hostKeyChecking: accept-new/,
    ],
    [
      "a changed host key",
      "@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n...\nHost key verification failed.",
      /host key of root@127\.0\.0\.1:2222 has CHANGED.*ssh-keygen -R '\[127\.0\.0\.1\]:2222'/,
    ],
  ])("explains %s", (_what, stderr, expected) => {
    expect(connectionFailure(stderr, t)).toMatch(expected);
  });

  it("leaves other failures to the script's own error handling", () => {
    expect(connectionFailure("mailfleet: cannot create the root prefix /x", t)).toBeNull();
  });
});
