// Validators for values that end up in config files or shell scripts.
// Each one says what is allowed, so an error can repeat it to the user.
import { isIP } from "node:net";
import { z } from "zod";

const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const HOSTNAME_RE = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const IPV4_RE = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;
const IPV6_RE = /^[0-9A-Fa-f:.]+$/;
// RFC 5322 atext without the characters a shell or a config parser treats specially.
const LOCAL_PART_RE = /^[A-Za-z0-9!#%&*+/=?^_{|}~.-]+$/;

export const hostname = z
  .string()
  .max(253, "a DNS name of at most 253 characters")
  .regex(HOSTNAME_RE, "a DNS name: letters, digits and '-', dot-separated labels");

export const relayHost = z
  .string()
  .max(253, "a DNS name or an IP address of at most 253 characters")
  .refine(
    (v) => HOSTNAME_RE.test(v) || IPV4_RE.test(v) || (v.includes(":") && IPV6_RE.test(v)),
    "a DNS name, an IPv4 address or an IPv6 address (no spaces, quotes or shell characters)",
  );

export const emailAddress = z
  .string()
  .max(254, "an address local@domain of at most 254 characters")
  .refine((v) => {
    const at = v.lastIndexOf("@");
    if (at <= 0) return false;
    return LOCAL_PART_RE.test(v.slice(0, at)) && HOSTNAME_RE.test(v.slice(at + 1));
  }, "an address local@domain: letters, digits and . _ % + - = ! # & * / ? ^ { | } ~ before the @, a DNS name after it");

export const port = z
  .number()
  .int("a whole number")
  .min(1, "a port from 1 to 65535")
  .max(65535, "a port from 1 to 65535");

/**
 * The normal form of an absolute host path: no "." components, no repeated or
 * trailing slashes. Paths are compared, hashed and written only in this form,
 * so /var/spool/./nullmailer is seen to be /var/spool/nullmailer. ".." is not
 * folded (on the host it follows symlinks): absolutePath refuses it.
 */
export function normalizeHostPath(p: string): string {
  const parts = p.split("/").filter((c) => c !== "" && c !== ".");
  return `/${parts.join("/")}`;
}

/** a is b, or one of them lies inside the other (both in normal form). */
export function pathsOverlap(a: string, b: string): boolean {
  const inside = (x: string, y: string) => y === "/" || x.startsWith(`${y}/`);
  return a === b || inside(a, b) || inside(b, a);
}

export const absolutePath = z
  .string()
  .max(1024, "an absolute path of at most 1024 characters")
  .regex(/^\/[A-Za-z0-9._+@\/-]*$/, "an absolute path of letters, digits and . _ + @ - /")
  .refine((v) => !v.split("/").includes(".."), "a path without '..'")
  .overwrite(normalizeHostPath);

/** A path on the machine running mailfleet; relative ones are relative to the inventory file. */
export const localPath = z
  .string()
  .min(1, "a non-empty path")
  .max(4096, "a path of at most 4096 characters")
  .refine((v) => !/[\n\r\0]/.test(v), "a path without newlines or NUL");

export const duration = z
  .number()
  .int("a whole number of seconds")
  .min(1, "a number of seconds >= 1")
  .max(31_536_000, "a number of seconds up to one year");

/** A secret is a reference, read when a plan or apply needs it; a mapping of exactly one of these keys is always one. */
export const secretRef = z.union([
  z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name") }).describe("{ env: NAME }"),
  z.strictObject({ file: localPath }).describe("{ file: path }"),
  z.strictObject({ command: z.string().min(1, "a non-empty command").max(4096, "a command of at most 4096 characters") }).describe('{ command: "..." }'),
]);
export type SecretRef = z.infer<typeof secretRef>;

// Secrets that are not one line of text, for a role's schema: the inventory
// writes them as any secret ({ env }, { file }, { command }); the field's
// type says what shape the value must have, and the role reads it with
// ctx.secrets.bytes(ref, shape) (src/resources/file.ts secretFile writes one
// to a file). The brand is a type only: a role cannot read a field its schema
// declares as a PEM secret as a binary one, or a password as either.
const SOURCES = "{ env: NAME } | { file: path } | { command: '...' }";

/** A secret of one or more PEM blocks (a private key, a certificate chain), at most 64 KiB. */
export const pemSecret = secretRef.brand<"pem-secret">().describe(`${SOURCES}: PEM text (a private key, a certificate chain), at most 64 KiB`);
export type PemSecretRef = z.output<typeof pemSecret>;

/** A secret of arbitrary bytes (a DER key, a keytab), at most 64 KiB; from { env } in base64. */
export const binarySecret = secretRef
  .brand<"binary-secret">()
  .describe(`${SOURCES}: any bytes (a DER key), at most 64 KiB; an environment variable holds them in base64`);
export type BinarySecretRef = z.output<typeof binarySecret>;

/** Free text that lands on one line of a config file (user names, etc.). */
export const singleLine = z
  .string()
  .min(1, "non-empty text")
  .max(512, "text of at most 512 characters")
  .refine((v) => !/[\n\r\0]/.test(v), "one line of text without newlines or NUL");

// Values below reach the argv of ssh(1) or a remote command line, so each is
// held to what ssh parses as one word and no shell treats specially.

/** The address ssh connects to: a name (also a Host alias of ~/.ssh/config) or an IP address. */
export const sshAddress = relayHost;

/** A login name as useradd and the BSDs accept it; never starting with '-' (ssh would read an option). */
export const loginName = z
  .string()
  .max(32)
  .regex(/^[A-Za-z_][A-Za-z0-9._-]*$/, "a login name: letters, digits and . _ - (not starting with a digit, '.' or '-')");

const JUMP_HOP = `(?:[A-Za-z_][A-Za-z0-9._-]*@)?(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9A-Fa-f:.]+\\]|[0-9.]+)(?::\\d{1,5})?`;

/** ssh -J: [user@]host[:port], comma-separated for several hops. */
export const sshJump = z
  .string()
  .max(1024)
  .regex(new RegExp(`^${JUMP_HOP}(?:,${JUMP_HOP})*$`), "jump hosts as [user@]host[:port], comma-separated (ssh -J)");

/** Options the ssh transport sets itself; letting the inventory override them would break it silently. */
const OWNED_SSH_OPTIONS: Record<string, string> = {
  batchmode: "mailfleet always runs ssh with BatchMode=yes (no prompts in a fleet run)",
  controlmaster: "mailfleet manages the multiplexed connection itself",
  controlpath: "mailfleet manages the multiplexed connection itself",
  controlpersist: "mailfleet manages the multiplexed connection itself",
  stricthostkeychecking: "use transport.hostKeyChecking: strict | accept-new | off",
  remotecommand: "mailfleet chooses the remote command",
  requesttty: "scripts run without a terminal",
};

/**
 * Options that make ssh run a command, or load code, on the machine running
 * mailfleet. An inventory in a merge request must not run commands on the CI
 * machine at `plan`: each needs transport.allowLocalCommands: true (which
 * --untrusted refuses).
 */
export const LOCAL_COMMAND_SSH_OPTIONS: Record<string, string> = {
  proxycommand: "runs a command here to reach the host (use transport.jump for jump hosts)",
  knownhostscommand: "runs a command here to list host keys",
  localcommand: "runs a command here after connecting",
  permitlocalcommand: "lets LocalCommand run a command here",
  match: "can run a command here (Match exec)",
  include: "reads further ssh configuration, which may run commands here",
  pkcs11provider: "loads a library into ssh here",
  securitykeyprovider: "loads a library into ssh here",
};

export const sshOptions = z
  .record(
    z.string(),
    z.union([
      z
        .string()
        .min(1)
        .max(1024)
        // a leading '-': ProxyJump and Hostname hand the value to another ssh's command line, where it is an option (-oProxyCommand=...)
        .regex(
          /^[^\s"'\\#-][^\s"'\\#]*$/,
          "one word without spaces, quotes, '\\' or '#' (ssh -o would split or misparse it), not starting with '-' (ssh would pass it on as an option)",
        ),
      z.number().int().min(0),
    ]),
  )
  .superRefine((opts, ctx) => {
    for (const key of Object.keys(opts)) {
      if (!/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(key)) {
        ctx.addIssue({ code: "custom", path: [key], message: `'${key}' is not an ssh_config keyword: letters and digits (e.g. ServerAliveInterval)` });
        continue;
      }
      const why = OWNED_SSH_OPTIONS[key.toLowerCase()];
      if (why) ctx.addIssue({ code: "custom", path: [key], message: `option ${key} cannot be set here: ${why}` });
    }
  });

/** A FreeBSD jail's name or jid, as jexec(8) takes it. */
export const jailRef = z
  .string()
  .max(255)
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, "a jail name or jid: letters, digits and . _ - (not starting with '.' or '-')");

/** A zone's uuid, or its alias (looked up with vmadm in the global zone). */
export const zoneRef = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "a zone uuid or alias: letters, digits and . _ -");

/** An IPv4 or IPv6 address literal (no brackets, no zone index), e.g. the address a host sends mail from. */
export const ipAddress = z
  .string()
  .max(45, "an IP address of at most 45 characters")
  .refine((v) => isIP(v) !== 0 && !v.includes("%"), "an IPv4 address (192.0.2.10) or an IPv6 address (2001:db8::10), without brackets or prefix length");

/** The bits of an address, most significant first (IPv4: 32, IPv6: 128). */
export function addressBits(address: string): bigint {
  if (isIP(address) === 4) return address.split(".").reduce((n, o) => (n << 8n) | BigInt(Number(o)), 0n);
  const [head, tail = ""] = address.includes("::") ? address.split("::") : [address, undefined];
  const groups = (s: string | undefined) => (s ? s.split(":") : []);
  let left = groups(head);
  let right = groups(tail);
  // an embedded IPv4 tail (::ffff:192.0.2.1) is two groups
  const v4 = (g: string[]) => {
    const last = g.at(-1);
    if (last && last.includes(".")) {
      const n = addressBits(last);
      g.splice(-1, 1, (n >> 16n).toString(16), (n & 0xffffn).toString(16));
    }
    return g;
  };
  if (address.includes("::")) right = v4(right);
  else left = v4(left);
  const all = address.includes("::") ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right] : left;
  return all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** A network in CIDR notation; its host bits must be zero (postconf warns otherwise), and it is at least /8 (IPv4) or /32 (IPv6). */
export const network = z
  .string()
  .max(49, "a network such as 192.0.2.0/28 or 2001:db8::/48")
  .superRefine((v, ctx) => {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(v);
    const family = m ? isIP(m[1]!) : 0;
    const bits = family === 4 ? 32 : 128;
    const len = m ? Number(m[2]) : -1;
    if (!m || family === 0 || m[1]!.includes("%") || len > bits) {
      ctx.addIssue({ code: "custom", message: "a network in CIDR notation: address/prefix length, such as 192.0.2.0/28 or 2001:db8::/48" });
      return;
    }
    const widest = family === 4 ? 8 : 32;
    if (len < widest) {
      ctx.addIssue({ code: "custom", message: `a network of at least /${widest}: a wider one lets most of the internet relay through the hub` });
      return;
    }
    const host = addressBits(m[1]!) & ((1n << BigInt(bits - len)) - 1n);
    if (host !== 0n) ctx.addIssue({ code: "custom", message: "a network whose host bits are zero (Postfix ignores the rest): write the network's first address before the /" });
  });

/**
 * A mail domain the hub serves: a DNS name in lower case (mail compares
 * domains without case, so two spellings would be two keys for one domain),
 * IDNs in their xn-- form.
 */
export const mailDomain = hostname
  .refine((v) => v.includes("."), "a mail domain with at least one dot, such as example.org")
  .refine((v) => v === v.toLowerCase(), "a mail domain in lower case (letters, digits, '-' and '.'; internationalized names in their xn-- form)");

/**
 * The local part of a mailbox or alias: it becomes user@domain in Dovecot's
 * passwd-file (':' separates its fields) and a directory under the mail
 * base, so only lower-case letters, digits and . _ - are allowed, without a
 * leading or trailing '.', and no '..'.
 */
export const mailUser = z
  .string()
  .max(64, "a user name of at most 64 characters")
  .regex(/^[a-z0-9](?:[a-z0-9._-]*[a-z0-9_-])?$/, "a user name: lower-case letters, digits and . _ - (not starting or ending with '.')")
  .refine((v) => !v.includes(".."), "a user name without '..'");

/** Where an alias points: a user (or alias) of the same domain, or a full address local@domain. */
export const aliasTarget = z
  .string()
  .max(254, "an address of at most 254 characters")
  .refine((v) => {
    const at = v.lastIndexOf("@");
    if (at < 0) return mailUser.safeParse(v).success;
    const local = v.slice(0, at);
    return /^[A-Za-z0-9_+=-](?:[A-Za-z0-9._+=-]*[A-Za-z0-9_+=-])?$/.test(local) && !local.includes("..") && HOSTNAME_RE.test(v.slice(at + 1));
  }, "a user of the same domain (bob) or an address local@domain (letters, digits and . _ + = - before the @, a DNS name after it)");

/** A size such as 2G: a whole number with an optional unit k, M, G or T (Dovecot's quota units). */
export const storageSize = z
  .string()
  .regex(/^[1-9][0-9]{0,11}[kMGT]?$/, "a size: a whole number with an optional unit k, M, G or T, such as 500M or 2G");
