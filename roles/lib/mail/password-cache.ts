// Which bcrypt hash an unchanged password already has, so that a re-plan of a
// hub with thousands of mailboxes does not pay ~90 ms per mailbox. The cache
// lives on the machine that runs mailfleet (never on a host, in a saved plan
// or in Terraform state): one line per password, `<mac> <bcrypt hash>`, where
// mac is HMAC-SHA256 under a random key kept beside it, both readable by
// their owner only. Why a keyed MAC there and nothing new on the hosts: see
// docs/hub.md, "Passwords".
import { createHmac, randomBytes } from "node:crypto";
import { appendFileSync, closeSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface PasswordHashCache {
  /** The hash recorded for this password of this address with this salt, if any. */
  get(address: string, password: string, salt: string): string | undefined;
  put(address: string, password: string, salt: string, hash: string): void;
}

const FILE = "password-hashes";
/** Past this many lines the file is rewritten with its newest half. */
const MAX_LINES = 200_000;

/** $MAILFLEET_CACHE_DIR, else $XDG_CACHE_HOME/mailfleet, else ~/.cache/mailfleet; none when MAILFLEET_PASSWORD_CACHE=off. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.MAILFLEET_PASSWORD_CACHE === "off") return undefined;
  if (env.MAILFLEET_CACHE_DIR) return path.resolve(env.MAILFLEET_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, "mailfleet");
  const home = os.homedir();
  return home ? path.join(home, ".cache", "mailfleet") : undefined;
}

/** A file only its owner can read, in a directory only its owner can change: else the cache is not used. */
function private_(p: string, type: "file" | "dir"): boolean {
  const st = lstatSync(p, { throwIfNoEntry: false });
  if (!st || (type === "dir" ? !st.isDirectory() : !st.isFile())) return false;
  return st.uid === process.getuid?.() && (st.mode & (type === "dir" ? 0o022 : 0o077)) === 0;
}

function keyIn(dir: string): Buffer | undefined {
  const file = path.join(dir, `${FILE}.key`);
  try {
    const fd = openSync(file, "wx", 0o600);
    writeSync(fd, randomBytes(32).toString("hex"));
    closeSync(fd);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  if (!private_(file, "file")) return undefined;
  const hex = readFileSync(file, "utf8").trim();
  return /^[0-9a-f]{64}$/.test(hex) ? Buffer.from(hex, "hex") : undefined;
}

class FileCache implements PasswordHashCache {
  private readonly entries = new Map<string, string>();
  private readonly file: string;

  constructor(
    dir: string,
    private readonly key: Buffer,
  ) {
    this.file = path.join(dir, FILE);
    const lines = private_(this.file, "file") ? readFileSync(this.file, "utf8").split("\n") : [];
    for (const line of lines) {
      const m = /^([0-9a-f]{64}) (\S{60})$/.exec(line);
      if (m) this.entries.set(m[1]!, m[2]!);
    }
    if (lines.length > MAX_LINES) {
      const keep = [...this.entries].slice(-MAX_LINES / 2);
      writeFileSync(`${this.file}.new`, keep.map(([k, v]) => `${k} ${v}\n`).join(""), { mode: 0o600 });
      renameSync(`${this.file}.new`, this.file);
    }
  }

  private mac(address: string, password: string, salt: string): string {
    return createHmac("sha256", this.key).update(`mailfleet password cache v1\0${address}\0${salt}\0${password}`).digest("hex");
  }

  get(address: string, password: string, salt: string): string | undefined {
    const hash = this.entries.get(this.mac(address, password, salt));
    // a line of another address or salt is never taken, whatever wrote it
    return hash?.startsWith(salt) ? hash : undefined;
  }

  put(address: string, password: string, salt: string, hash: string): void {
    const mac = this.mac(address, password, salt);
    if (this.entries.get(mac) === hash) return;
    this.entries.set(mac, hash);
    try {
      // one short line with O_APPEND: two runs at once interleave whole lines
      appendFileSync(this.file, `${mac} ${hash}\n`, { mode: 0o600 });
    } catch {
      // a cache that cannot be written costs the next run time, never this one's result
    }
  }
}

const opened = new Map<string, PasswordHashCache | null>();

/** The cache in dir (created 0700, its files 0600), or null where it cannot be used safely: then every hash is computed. */
export function passwordHashCache(dir = cacheDir()): PasswordHashCache | null {
  if (!dir) return null;
  let cache = opened.get(dir);
  if (cache === undefined) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const key = private_(dir, "dir") ? keyIn(dir) : undefined;
      cache = key ? new FileCache(dir, key) : null;
    } catch {
      cache = null;
    }
    opened.set(dir, cache);
  }
  return cache;
}
