// bcrypt on every core, called synchronously: a role's resources are computed
// by a pure, synchronous function, but a first apply of a hub with thousands
// of mailboxes needs thousands of ~90 ms hashes. The hashes are split across
// worker threads; the caller waits on a shared counter (Atomics.wait, allowed
// on Node's main thread) and reads the results with receiveMessageOnPort, so
// no event loop turn is needed.
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import { hashSync } from "bcryptjs";

export interface BcryptJob {
  password: string;
  salt: string;
}

// CommonJS, evaluated in the worker: bcryptjs is loaded from the path the
// main thread resolved, so the same copy serves the sources and the bundle.
const WORKER = `
const { workerData } = require("node:worker_threads");
const { hashSync } = require(workerData.bcrypt);
try {
  workerData.port.postMessage({ hashes: workerData.jobs.map((j) => hashSync(j.password, j.salt)) });
} catch (e) {
  workerData.port.postMessage({ error: String(e) });
}
Atomics.add(workerData.done, 0, 1);
Atomics.notify(workerData.done, 0);
`;

/** Below this many hashes, starting threads costs more than it saves. */
const PARALLEL_FROM = 4;

/** Each job's bcrypt hash, in order, computed on up to every core. */
export function bcryptAll(jobs: readonly BcryptJob[], threads = availableParallelism()): string[] {
  const n = Math.min(threads, Math.ceil(jobs.length / 2));
  if (jobs.length < PARALLEL_FROM || n < 2) return jobs.map((j) => hashSync(j.password, j.salt));
  const bcrypt = createRequire(import.meta.url).resolve("bcryptjs");
  const done = new Int32Array(new SharedArrayBuffer(4));
  const slices = Array.from({ length: n }, (_, i) => jobs.slice(Math.floor((i * jobs.length) / n), Math.floor(((i + 1) * jobs.length) / n)));
  const ports = slices.map((slice) => {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER, { eval: true, workerData: { bcrypt, jobs: slice, port: port2, done }, transferList: [port2] });
    worker.unref();
    return { port: port1, worker };
  });
  // A thread that dies without a word never counts itself in: the wait is bounded by far more than its share can take.
  const deadline = Date.now() + 60_000 + 2_000 * slices[0]!.length;
  const results: (string[] | undefined)[] = slices.map(() => undefined);
  try {
    for (;;) {
      const seen = Atomics.load(done, 0);
      ports.forEach((p, i) => {
        const reply = results[i] ? undefined : (receiveMessageOnPort(p.port)?.message as { hashes?: string[]; error?: string } | undefined);
        if (reply?.error) throw new Error(`bcrypt: ${reply.error}`);
        if (reply) results[i] = reply.hashes;
      });
      if (results.every(Boolean)) break;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`bcrypt: ${results.filter((r) => !r).length} of ${n} hashing threads gave no result`);
      Atomics.wait(done, 0, seen, left);
    }
  } finally {
    for (const p of ports) {
      p.port.close();
      void p.worker.terminate();
    }
  }
  return results.flatMap((r) => r!);
}
