// Mail passwords reach the host only as BLF-CRYPT (bcrypt) hashes, computed
// by bcryptjs. A plan compares the passwd-file it would write with the one on
// the host, so the hash of an unchanged password must not change between runs:
// the salt is derived from the mailbox address (see docs/hub.md for why that
// is sound here, and why it is not derived from the password).
import { createHash } from "node:crypto";
import { encodeBase64 } from "bcryptjs";
import { bcryptAll } from "./bcrypt-pool.ts";
import { passwordHashCache, type PasswordHashCache } from "./password-cache.ts";

/** Dovecot's scheme name for what bcryptjs computes. */
export const PASSWORD_SCHEME = "BLF-CRYPT";

/** bcrypt's cost: 2^10 rounds, about 90 ms per hash in bcryptjs here; Dovecot's own default is 5. */
export const BCRYPT_COST = 10;

/** bcrypt reads at most this many bytes of a password; longer ones are refused rather than cut silently. */
export const BCRYPT_MAX_BYTES = 72;

/** What stands for a hash when passwords are placeholders (validate, render, the Terraform hash): never a hash of anything, and no ":" (the passwd-file field separator). */
export const MASKED_HASH = `{${PASSWORD_SCHEME}}(sensitive, hashed at plan and apply only)`;

/** The salt of one mailbox: 16 bytes from SHA-256 over a label and the address, in bcrypt's base64. */
export function mailboxSalt(address: string): string {
  const bytes = createHash("sha256").update(`mailfleet BLF-CRYPT salt v1\0${address}`).digest().subarray(0, 16);
  return `$2b$${String(BCRYPT_COST).padStart(2, "0")}$${encodeBase64(bytes, 16)}`;
}

export class PasswordError extends Error {
  override name = "PasswordError";
}

function checkedLength(address: string, password: string): void {
  const bytes = Buffer.byteLength(password, "utf8");
  if (bytes > BCRYPT_MAX_BYTES) {
    throw new PasswordError(`the password of ${address} is ${bytes} bytes long; bcrypt reads only the first ${BCRYPT_MAX_BYTES}, so give one of at most ${BCRYPT_MAX_BYTES} bytes`);
  }
}

export interface MailboxPassword {
  address: string;
  password: string;
}

/**
 * `{BLF-CRYPT}$2b$10$...` for each mailbox, for a passwd-file: the same for
 * the same address and password on every run and machine. A password this
 * machine hashed before is looked up (password-cache.ts); the others are
 * hashed once each, on every core.
 */
export function passwordHashes(mailboxes: readonly MailboxPassword[], cache: PasswordHashCache | null = passwordHashCache()): string[] {
  for (const m of mailboxes) checkedLength(m.address, m.password);
  const salts = mailboxes.map((m) => mailboxSalt(m.address));
  const hashes = mailboxes.map((m, i) => cache?.get(m.address, m.password, salts[i]!));
  const missing = hashes.flatMap((h, i) => (h ? [] : [i]));
  const computed = bcryptAll(missing.map((i) => ({ password: mailboxes[i]!.password, salt: salts[i]! })));
  missing.forEach((i, k) => {
    hashes[i] = computed[k]!;
    cache?.put(mailboxes[i]!.address, mailboxes[i]!.password, salts[i]!, computed[k]!);
  });
  return hashes.map((h) => `{${PASSWORD_SCHEME}}${h!}`);
}

/** One mailbox's passwordHashes. */
export function passwordHash(address: string, password: string, cache: PasswordHashCache | null = passwordHashCache()): string {
  return passwordHashes([{ address, password }], cache)[0]!;
}

/** Schemes a given hash may use: Dovecot 2.3 verifies each, and each is slow by design (no plain, MD5 or SHA-1/2 digests). */
export const GIVEN_HASH_SCHEMES: Readonly<Record<string, RegExp>> = {
  "BLF-CRYPT": /^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/,
  "SHA512-CRYPT": /^\$6\$(rounds=[0-9]{4,9}\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{86}$/,
  "SHA256-CRYPT": /^\$5\$(rounds=[0-9]{4,9}\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{43}$/,
  ARGON2ID: /^\$argon2id\$v=19\$m=[0-9]{1,8},t=[0-9]{1,4},p=[0-9]{1,3}\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$/,
  ARGON2I: /^\$argon2i\$v=19\$m=[0-9]{1,8},t=[0-9]{1,4},p=[0-9]{1,3}\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$/,
};

/** What is wrong with a given `{SCHEME}hash` (as `doveadm pw` prints it), or undefined. */
export function givenHashProblem(text: string): string | undefined {
  const allowed = Object.keys(GIVEN_HASH_SCHEMES).join(", ");
  const m = /^\{([A-Z0-9-]+)\}(.*)$/s.exec(text);
  if (!m) return `a hash as \`doveadm pw\` prints it, {SCHEME}..., with SCHEME one of ${allowed}`;
  const form = GIVEN_HASH_SCHEMES[m[1]!];
  if (!form) return `${m[1]} is not accepted: a plain or fast scheme lets a stolen passwd-file be guessed quickly; give one of ${allowed}`;
  if (!form.test(m[2]!)) return `not a well-formed ${m[1]} hash (as \`doveadm pw -s ${m[1]}\` prints it)`;
  return undefined;
}
