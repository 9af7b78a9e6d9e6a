import type { HostConfig } from "../../src/inventory/catalog.ts";
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


function unquote(word: string): string {
  return word.replace(/'([^']*)'?|"((?:\\.|[^"\\])*)"?|\\(.)/g, (_m, sq, dq, esc) => sq ?? (dq !== undefined ? dq.replace(/\\(.)/g, "$1") : esc));
}

/** Masks passwords in a remotes file, for diffs, whichever way they are quoted. */
export function maskRemotes(text: string): string {
  return text
    .split("\n")
    .map((line) =>
      line.trimStart().startsWith("#") || !line.includes("pass")
        ? line
        : line.replace(/(?:'[^']*'?|"(?:\\.|[^"\\])*"?|\\.|[^\s'"\\])+/g, (w) => (unquote(w).startsWith("--pass=") ? "--pass=********" : w)),
    )
    .join("\n");
}
