// A plain SMTP/LMTP client for the tests (no library): reads whole replies,
// one per command, and sends a message dot-stuffed with CRLF line ends. Used
// to push many messages through one connection, from a chosen source address.
import net from "node:net";
import { execa } from "execa";

/** Reads complete (possibly multi-line) SMTP/LMTP replies from a socket. */
export function replyReader(sock: net.Socket): () => Promise<string> {
  let buf = "";
  const waiting: { resolve: (s: string) => void; reject: (e: Error) => void }[] = [];
  let failed: Error | undefined;
  const pump = () => {
    for (;;) {
      const m = /^(\d{3}) .*\r?\n/m.exec(buf);
      if (!m || !waiting.length) break;
      const end = m.index + m[0].length;
      waiting.shift()!.resolve(buf.slice(0, end).trimEnd());
      buf = buf.slice(end);
    }
    if (failed) for (const w of waiting.splice(0)) w.reject(failed);
  };
  sock.on("data", (d) => {
    buf += d.toString("latin1");
    pump();
  });
  sock.on("error", (e) => {
    failed = e;
    pump();
  });
  sock.on("close", () => {
    failed ??= new Error(`connection closed${buf ? `; unread: ${buf}` : ""}`);
    pump();
  });
  return () =>
    new Promise((resolve, reject) => {
      waiting.push({ resolve, reject });
      pump();
    });
}

/** A message as sent after DATA: CRLF line ends, leading dots doubled, the final dot line. */
export function dataText(message: string): string {
  return `${message.replace(/\r?\n/g, "\r\n").replace(/^\./gm, "..").replace(/(\r\n)?$/, "\r\n")}.\r\n`;
}

export interface SmtpTransaction {
  /** Reply to each RCPT, in order. */
  rcpt: string[];
  /** Reply to the end of DATA; undefined when no recipient was accepted. */
  data?: string;
}

export interface SmtpSession {
  /** One transaction (MAIL, RCPT..., DATA), then RSET; the session stays open for the next. */
  send(envelope: { from: string; rcpts: string[] }, message: string): Promise<SmtpTransaction>;
  close(): Promise<void>;
}

/** Opens an SMTP session (greeting, EHLO) to 127.0.0.1:`port`, from `localAddress` when given. */
export async function smtpSession(port: number, opts: { host?: string; localAddress?: string; helo?: string } = {}): Promise<SmtpSession> {
  const sock = net.connect({ port, host: opts.host ?? "127.0.0.1", localAddress: opts.localAddress });
  const next = replyReader(sock);
  const cmd = async (line: string) => {
    sock.write(`${line}\r\n`);
    return next();
  };
  const expectCode = (reply: string, code: string, what: string) => {
    if (!reply.startsWith(code)) throw new Error(`SMTP ${what}: ${reply}`);
  };
  expectCode(await next(), "220", "greeting");
  expectCode(await cmd(`EHLO ${opts.helo ?? "client.test"}`), "250", "EHLO");
  return {
    async send(envelope, message) {
      expectCode(await cmd(`MAIL FROM:<${envelope.from}>`), "250", "MAIL");
      const rcpt: string[] = [];
      for (const r of envelope.rcpts) rcpt.push(await cmd(`RCPT TO:<${r}>`));
      let data: string | undefined;
      if (rcpt.some((r) => r.startsWith("2"))) {
        const go = await cmd("DATA");
        if (go.startsWith("354")) {
          sock.write(dataText(message));
          data = await next();
        } else data = go;
      }
      await cmd("RSET");
      return { rcpt, data };
    },
    async close() {
      try {
        await cmd("QUIT");
      } catch {
        // already closed
      }
      sock.end();
    },
  };
}

export interface RawSmtpResult {
  greeting?: string;
  /** The replies read after each step. */
  replies: string[][];
  closed: boolean;
  error?: string;
}

/**
 * A byte-exact SMTP conversation (test/support/smtp-raw.mjs) with `host`:
 * each step sends its bytes (latin1) and reads `replies` replies (default 1).
 * `via` runs it elsewhere, e.g. inside an outside network.
 */
export async function rawSmtp(o: {
  host: string;
  port: number;
  source?: string;
  steps: { send: string; replies?: number }[];
  via?: { argv(cmd: string, args: string[]): [string, string[]] };
}): Promise<RawSmtpResult> {
  const script = new URL("./smtp-raw.mjs", import.meta.url).pathname;
  const args = [script, o.host, String(o.port), o.source ?? ""];
  const [cmd, argv] = o.via ? o.via.argv(process.execPath, args) : [process.execPath, args];
  const r = await execa(cmd, argv, { input: JSON.stringify(o.steps), reject: false, timeout: 120_000 });
  if (r.exitCode !== 0) throw new Error(`smtp-raw failed (${r.exitCode}): ${String(r.stderr)}`);
  return JSON.parse(String(r.stdout)) as RawSmtpResult;
}
