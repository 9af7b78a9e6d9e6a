// Mail passwords reach the host only as BLF-CRYPT (bcrypt) hashes, computed
// by bcryptjs. A plan compares the passwd-file it would write with the one on
// the host, so the hash of an unchanged password must not change between runs:
// the salt is derived from the mailbox address (see docs/hub.md for why that
// is sound here, and why it is not derived from the password).
import { createHash } from "node:crypto";
import { encodeBase64, hashSync } from "bcryptjs";

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

/** `{BLF-CRYPT}$2b$10$...` for a passwd-file: the same for the same address and password, on every run and machine. */
export function passwordHash(address: string, password: string): string {
  const bytes = Buffer.byteLength(password, "utf8");
  if (bytes > BCRYPT_MAX_BYTES) {
    throw new PasswordError(`the password of ${address} is ${bytes} bytes long; bcrypt reads only the first ${BCRYPT_MAX_BYTES}, so give one of at most ${BCRYPT_MAX_BYTES} bytes`);
  }
  return `{${PASSWORD_SCHEME}}${hashSync(password, mailboxSalt(address))}`;
}
