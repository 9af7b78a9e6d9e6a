import type { HostConfig } from "../../src/inventory/load.ts";
import type { SecretResolver } from "../../src/inventory/secrets.ts";

/**
 * Quotes one word for nullmailer's remotes parser (lib/argparse.cc): single
 * quotes are literal; a single quote itself goes inside double quotes. Its
 * backslash handling skips the character after an escape, so none is used.
 */
export function quoteRemoteArg(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return s
    .split("'")
    .map((part) => (part === "" ? "" : `'${part}'`))
    .join(`"'"`);
}

/** The relay line of the remotes file: `host protocol [options]`. */
export function renderRemoteLine(relay: NonNullable<HostConfig["relay"]>, secrets: SecretResolver): string {
  const protocol = relay.protocol ?? "smtp";
  const words = [relay.host, protocol];
  if (relay.port !== undefined) words.push(`--port=${relay.port}`);
  if (relay.tls === "starttls") words.push("--starttls");
  if (relay.tls === "tls") words.push("--ssl");
  if (relay.insecure) words.push("--insecure");
  if (relay.caFile) words.push(`--x509cafile=${relay.caFile}`);
  if (relay.auth) {
    words.push(`--user=${relay.auth.user}`);
    words.push(`--pass=${secrets.value(relay.auth.password)}`);
  }
  return words.map(quoteRemoteArg).join(" ");
}

/** Masks passwords in a remotes file, for diffs. */
export function maskRemotes(text: string): string {
  return text.replace(/(--pass=)(?:'[^']*'|"[^"]*"|[^\s'"])+/g, "$1********");
}
