// A real SMTP server for the tests: Postfix's smtp-sink (unpacked under
// .deps/postfix), on 127.0.0.1 and a port picked at run time, writing every
// transaction it receives to its own file.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { POSTFIX_ROOT } from "./cli.ts";
import { alive, listens, stopProcess } from "./daemon.ts";
import { freePort } from "./ports.ts";
import { poll } from "./wait.ts";

export interface SmtpSink {
  port: number;
  dir: string;
  /** Names of the dump files, one per transaction, oldest first. */
  files(): string[];
  read(file: string): Buffer;
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

/** Whether smtp-sink greets on `port` within `ms`; false when it exited first. */
async function listening(port: number, child: ChildProcess, ms: number): Promise<boolean> {
  let up = false;
  await poll(async () => (up = await listens(port, { greeting: /^220/, say: "QUIT\r\n" })) || !alive(child), ms, 50);
  return up && alive(child);
}

/** Starts smtp-sink in `dir` (made world-writable: as root it runs as nobody). */
export async function startSmtpSink(dir: string): Promise<SmtpSink> {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o1777);
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(
      path.join(POSTFIX_ROOT, "usr/sbin/smtp-sink"),
      ["-u", "nobody", "-d", `${dir}/%Y%m%d%H%M%S.`, `127.0.0.1:${port}`, "10"],
      { env: { LD_LIBRARY_PATH: path.join(POSTFIX_ROOT, "usr/lib/postfix") }, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += String(d)));
    if (await listening(port, child, 30_000)) {
      // the readiness probes above were connections, not transactions: nothing is dumped for them
      return {
        port,
        dir,
        files: () => readdirSync(dir).sort(),
        read: (f) => readFileSync(path.join(dir, f)),
        stop: () => stopProcess(child),
      };
    }
    await stopProcess(child, 0);
    // another process may have taken the port between the probe and the bind: try another
    if (attempt === 4) throw new Error(`smtp-sink did not start: ${stderr}`);
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
