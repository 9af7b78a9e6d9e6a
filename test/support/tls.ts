// One TLS handshake with openssl s_client, as a client that offers exactly
// the protocol and cipher suites given (security level 0, so that the client
// itself offers what a server must refuse); optionally through STARTTLS, and
// from elsewhere (`via`, e.g. an outside network, test/support/netns.ts).
import { execa } from "execa";

export interface HandshakeOptions {
  host: string;
  port: number;
  /** s_client's -starttls protocol: smtp, imap, pop3. */
  starttls?: "smtp" | "imap" | "pop3";
  /** Offer this protocol only. */
  protocol: "tls1" | "tls1_1" | "tls1_2" | "tls1_3";
  /** TLS 1.2 and older: an OpenSSL cipher list (e.g. aNULL, kRSA); the client offers only these. */
  cipher?: string;
  via?: { argv(cmd: string, args: string[]): [string, string[]] };
}

export interface Handshake {
  /** The handshake completed. */
  ok: boolean;
  /** What was agreed, from s_client -brief ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384"). */
  protocol?: string;
  cipher?: string;
  output: string;
}

export async function tlsHandshake(o: HandshakeOptions): Promise<Handshake> {
  const host = o.host.includes(":") ? `[${o.host}]` : o.host;
  const args = ["s_client", "-brief", "-connect", `${host}:${o.port}`, `-${o.protocol}`];
  if (o.starttls) args.push("-starttls", o.starttls);
  if (o.protocol !== "tls1_3") args.push("-cipher", `${o.cipher ?? "DEFAULT"}:@SECLEVEL=0`);
  const [cmd, argv] = o.via ? o.via.argv("openssl", args) : ["openssl", args];
  const r = await execa(cmd, argv, { input: "", reject: false, timeout: 60_000 });
  const output = `${String(r.stdout)}\n${String(r.stderr)}`;
  const protocol = /Protocol version: (\S+)/.exec(output)?.[1];
  const cipher = /Ciphersuite: (\S+)/.exec(output)?.[1];
  return { ok: r.exitCode === 0 && protocol !== undefined, protocol, cipher, output };
}
