// A line-level SMTP conversation with exact bytes, run as its own process so
// that it can run inside another network namespace (test/support/netns.ts):
//   node smtp-raw.mjs HOST PORT [SOURCE] < steps.json
// steps.json: [{ "send": "<bytes, latin1>", "replies": N }...]: each step writes
// its bytes, then reads N complete replies (default 1; 0 reads none). The
// greeting is read first. Prints { replies: [[...] per step], closed, error }.
// Every wait is bounded (MAILFLEET_SMTP_RAW_TIMEOUT ms a reply, default 60 s).
import net from "node:net";

const [host, port, source] = process.argv.slice(2);
const steps = JSON.parse(await new Promise((resolve) => {
  let s = "";
  process.stdin.setEncoding("latin1");
  process.stdin.on("data", (d) => (s += d));
  process.stdin.on("end", () => resolve(s));
}));
const timeoutMs = Number(process.env.MAILFLEET_SMTP_RAW_TIMEOUT ?? 60_000);

const sock = net.connect({ host, port: Number(port), localAddress: source || undefined });
let buf = "";
let closed = false;
let waiter;
sock.setEncoding("latin1");
sock.on("data", (d) => {
  buf += d;
  waiter?.();
});
sock.on("close", () => {
  closed = true;
  waiter?.();
});
sock.on("error", () => {
  closed = true;
  waiter?.();
});

/** The next complete reply (last line "NNN " or "NNN" alone), or undefined once the connection closed. */
async function reply() {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = /^(\d{3})(?: [^\n]*)?\r?\n/m.exec(buf);
    if (m) {
      const end = m.index + m[0].length;
      const text = buf.slice(0, end).trimEnd();
      buf = buf.slice(end);
      return text;
    }
    if (closed) return undefined;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms; unread: ${JSON.stringify(buf)}`);
    await new Promise((resolve) => {
      const t = setTimeout(resolve, left);
      waiter = () => {
        clearTimeout(t);
        resolve();
      };
    });
    waiter = undefined;
  }
}

const out = { greeting: undefined, replies: [], closed: false, error: undefined };
try {
  out.greeting = await reply();
  for (const step of steps) {
    if (closed) break;
    if (step.send) sock.write(Buffer.from(step.send, "latin1"));
    const got = [];
    for (let i = 0; i < (step.replies ?? 1); i++) {
      const r = await reply();
      if (r === undefined) break;
      got.push(r);
    }
    out.replies.push(got);
  }
} catch (e) {
  out.error = e.message;
}
out.closed = closed;
sock.destroy();
process.stdout.write(JSON.stringify(out));
