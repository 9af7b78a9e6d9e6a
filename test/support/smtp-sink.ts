// A real SMTP server for the tests, the far end of every relay they send
// through: Postfix's smtp-sink (unpacked under .deps/postfix), on 127.0.0.1
// (or the address given) and a port picked at run time, writing every
// transaction it receives to its own file: the envelope (X-Mail-Args,
// X-Rcpt-Args, ...) and the message.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { POSTFIX_ROOT } from "./cli.ts";
import { alive, listens, stopProcess } from "./daemon.ts";
import { freePort } from "./ports.ts";
import { poll } from "./wait.ts";

export interface SmtpSink {
  port: number;
  /** Where the transactions are dumped. */
  dir: string;
  /** Names of the dump files, one per transaction, oldest first. */
  files(): string[];
  read(file: string): Buffer;
  /** The dumps as text, oldest first. */
  messages(): string[];
  /** Stops smtp-sink; removes its directory when it made it. */
  stop(): Promise<void>;
}


/** Reads one SMTP reply (all its lines) from a socket. */
function replies(sock: net.Socket): () => Promise<string> {
  let buf = "";
  const waiting: ((s: string) => void)[] = [];
  const pump = () => {
    for (;;) {
      const m = /^(\d{3}) .*\r?\n/m.exec(buf);
      if (!m || !waiting.length) return;
      const end = m.index + m[0].length;
      waiting.shift()!(buf.slice(0, end));
      buf = buf.slice(end);
    }
  };
  sock.on("data", (d) => {
    buf += d.toString("latin1");
    pump();
  });
  return () =>
    new Promise((resolve) => {
      waiting.push(resolve);
      pump();
    });
}

/** Sends one message over SMTP; returns the server's reply to the end of DATA. */
export async function sendSmtp(port: number, from: string, to: string, data: string): Promise<string> {
  const sock = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    sock.once("connect", resolve);
    sock.once("error", reject);
  });
  const next = replies(sock);
  const expectCode = async (code: string) => {
    const r = await next();
    if (!r.startsWith(code)) throw new Error(`SMTP: expected ${code}, got ${r.trim()}`);
    return r;
  };
  try {
    await expectCode("220");
    for (const [cmd, code] of [["HELO test.invalid", "250"], [`MAIL FROM:<${from}>`, "250"], [`RCPT TO:<${to}>`, "250"], ["DATA", "354"]] as const) {
      sock.write(`${cmd}\r\n`);
      await expectCode(code);
    }
    sock.write(`${data.replace(/\r?\n/g, "\r\n").replace(/^\./gm, "..")}.\r\n`);
    const done = await expectCode("250");
    sock.write("QUIT\r\n");
    return done;
  } finally {
    sock.end();
  }
}

/** Whether smtp-sink greets on `address`:`port` within `ms`; false when it exited first. */
async function listening(address: string, port: number, child: ChildProcess, ms: number): Promise<boolean> {
  let up = false;
  await poll(async () => (up = await listens(port, { host: address, greeting: /^220/, say: "QUIT\r\n" })) || !alive(child), ms, 50);
  return up && alive(child);
}

/**
 * Starts smtp-sink on `address` (default 127.0.0.1), dumping into `dir`
 * (default a temp dir of its own, removed by stop()), made world-writable:
 * as root it runs as nobody.
 */
export async function startSmtpSink(opts: { dir?: string; address?: string; port?: number } = {}): Promise<SmtpSink> {
  const address = opts.address ?? "127.0.0.1";
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), "mf-sink-"));
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o1777);
  for (let attempt = 0; attempt < 5; attempt++) {
    // a given port is a relay that comes back where the MTA under test keeps trying
    const port = opts.port ?? (await freePort());
    const child = spawn(
      path.join(POSTFIX_ROOT, "usr/sbin/smtp-sink"),
      ["-u", "nobody", "-d", `${dir}/%Y%m%d%H%M%S.`, `${address}:${port}`, "100"],
      { env: { LD_LIBRARY_PATH: path.join(POSTFIX_ROOT, "usr/lib/postfix") }, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += String(d)));
    if (await listening(address, port, child, 30_000)) {
      // the readiness probes above were connections, not transactions: nothing is dumped for them
      const files = () => readdirSync(dir).sort();
      return {
        port,
        dir,
        files,
        read: (f) => readFileSync(path.join(dir, f)),
        messages: () => files().map((f) => readFileSync(path.join(dir, f), "utf8")),
        async stop() {
          await stopProcess(child);
          if (!opts.dir) rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await stopProcess(child, 0);
    if (opts.port) throw new Error(`smtp-sink did not start on port ${opts.port}: ${stderr}`);
    // another process may have taken the port between the probe and the bind: try another
    if (attempt === 4) {
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
      throw new Error(`smtp-sink did not start: ${stderr}`);
    }
  }
  throw new Error("unreachable");
}

/** Splits a dump file into smtp-sink's envelope lines, the message's header lines and its body. */
export function parseDump(dump: Buffer): { envelope: string[]; headers: string[]; body: string } {
  const text = dump.toString("latin1");
  const split = text.indexOf("\n\n");
  const head = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? "" : text.slice(split + 2);
  // header lines, with folded continuation lines joined
  const lines = head.split("\n").reduce<string[]>((acc, l) => {
    if (/^[ \t]/.test(l) && acc.length) acc[acc.length - 1] += `\n${l}`;
    else acc.push(l);
    return acc;
  }, []);
  const envelope = lines.filter((l) => /^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args):/.test(l));
  return { envelope, headers: lines.filter((l) => !envelope.includes(l)), body };
}
