// Validators for values that end up in config files or shell scripts.
// Each one says what is allowed, so an error can repeat it to the user.
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
        .regex(/^[^\s"'\\#]+$/, "one word without spaces, quotes, '\\' or '#' (ssh -o would split or misparse it)"),
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

/** A zone's uuid, or its alias (looked up with vmadm in the global zone). */
export const zoneRef = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "a zone uuid or alias: letters, digits and . _ -");
