// The SASL password map: its key must be exactly the relayhost value
// (brackets and port included), or Postfix silently sends no credentials.
import type { HostConfig } from "../../src/inventory/catalog.ts";
import type { SecretResolver } from "../../src/inventory/secrets.ts";
import type { PostfixSettings } from "./schema.ts";

type Relay = NonNullable<HostConfig["relay"]>;

/** relayhost = [host]:port; brackets: no MX lookup. IPv6 literals as [ipv6:addr]. */
export function relayhostValue(relay: Relay): string {
  const port = relay.port ?? (relay.tls === "tls" ? 465 : 25);
  const host = relay.host.includes(":") ? `ipv6:${relay.host}` : relay.host;
  return `[${host}]:${port}`;
}

function checkedPassword(password: string, whose: string): string {
  // sasl_passwd's value is the rest of the line, trimmed: such a password cannot be stored there.
  if (/^\s|\s$/.test(password)) throw new Error(`the relay password for ${whose} starts or ends with whitespace, which sasl_passwd cannot hold`);
  return password;
}

export function saslEntries(
  relayhost: string,
  relay: Relay,
  senderAuth: PostfixSettings["senderAuth"],
  secrets: SecretResolver,
): { key: string; user: string; password: string }[] {
  const out: { key: string; user: string; password: string }[] = [];
  for (const [sender, a] of Object.entries(senderAuth ?? {})) {
    out.push({ key: sender, user: a.user, password: checkedPassword(secrets.value(a.password), sender) });
  }
  if (relay.auth) out.push({ key: relayhost, user: relay.auth.user, password: checkedPassword(secrets.value(relay.auth.password), relayhost) });
  return out;
}

/** Masks the password of every entry (`key user:password`), for diffs. */
export function maskSaslPasswd(text: string): string {
  return text
    .split("\n")
    .map((line) => (/^\s*(#|$)/.test(line) ? line : line.replace(/^(\s*\S+\s+[^:\s]*:).*$/, "$1********")))
    .join("\n");
}
