// A generated fleet of sandbox zones (nullmailer, a relay password in a file,
// a persistent spool) for the benchmarks that need many hosts without ssh.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Writes `<dir>/fleet.yaml` with `hosts` zones zone0000... and the secret file; returns the inventory's path. */
export function zoneFleetInventory(dir: string, hosts: number): string {
  const lines = [
    "defaults:",
    "  domain: example.org",
    "  adminaddr: root@example.org",
    "  relay:",
    "    host: smtp.relay.example",
    "    port: 587",
    "    tls: starttls",
    "    auth: { user: relay-user, password: { file: secrets/relay-password } }",
    "groups:",
    "  zones:",
    "    platform: smartos",
    "    roles: [nullmailer]",
    "    nullmailer: { persistentSpool: /home/nullmailer-spool, injectShim: auto }",
    "    hosts:",
  ];
  for (let i = 0; i < hosts; i++) {
    const name = `zone${String(i).padStart(4, "0")}`;
    lines.push(`      ${name}: { transport: { type: local, root: sandbox/${name} } }`);
  }
  mkdirSync(path.join(dir, "secrets"), { recursive: true });
  writeFileSync(path.join(dir, "secrets/relay-password"), "bench-secret\n", { mode: 0o600 });
  const file = path.join(dir, "fleet.yaml");
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}
