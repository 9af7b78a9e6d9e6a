// A private PostgreSQL cluster for one test file: initdb and pg_ctl as the
// postgres user in a temporary directory, listening on 127.0.0.1 only, on a
// port picked at run time. Password authentication over TCP, so the
// connection string carries a secret (the tests check it never leaks).
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { freePort } from "./ports.ts";

export interface Postgres {
  port: number;
  password: string;
  /** postgres://postgres:<password>@127.0.0.1:<port>/postgres?sslmode=disable */
  connStr: string;
  /** Runs SQL over the cluster's Unix socket as postgres; returns the unaligned output. */
  sql(query: string): Promise<string>;
  stop(): Promise<void>;
}

function pgBin(name: string): string {
  const versions = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error("PostgreSQL is not installed (test/system-packages.txt lists postgresql)");
  return path.join("/usr/lib/postgresql", versions[0]!, "bin", name);
}


const asPostgres = (cmd: string, args: string[]) => execa("runuser", ["-u", "postgres", "--", cmd, ...args], { reject: false, stdin: "ignore" });

export async function startPostgres(): Promise<Postgres> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-pg-"));
  const uid = Number((await execa("id", ["-u", "postgres"])).stdout);
  const gid = Number((await execa("id", ["-g", "postgres"])).stdout);
  chownSync(dir, uid, gid);
  chmodSync(dir, 0o700);
  const password = `pg-${randomBytes(12).toString("hex")}`;
  const pwfile = path.join(dir, "pwfile");
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  chownSync(pwfile, uid, gid);
  const data = path.join(dir, "data");
  const init = await asPostgres(pgBin("initdb"), ["-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", `--pwfile=${pwfile}`, "--no-sync"]);
  if (init.exitCode !== 0) throw new Error(`initdb failed: ${String(init.stderr)}`);

  let port = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    port = await freePort();
    const opts = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=off`;
    const r = await asPostgres(pgBin("pg_ctl"), ["-D", data, "-o", opts, "-l", path.join(dir, "log"), "-w", "-t", "30", "start"]);
    if (r.exitCode === 0) break;
    if (attempt === 4) throw new Error(`pg_ctl start failed: ${String(r.stdout)} ${String(r.stderr)}`);
  }
  return {
    port,
    password,
    connStr: `postgres://postgres:${password}@127.0.0.1:${port}/postgres?sslmode=disable`,
    async sql(query) {
      const r = await asPostgres(pgBin("psql"), ["-h", dir, "-p", String(port), "-U", "postgres", "-d", "postgres", "-Atc", query]);
      if (r.exitCode !== 0) throw new Error(`psql failed: ${String(r.stderr)}`);
      return String(r.stdout).trim();
    },
    async stop() {
      await asPostgres(pgBin("pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
