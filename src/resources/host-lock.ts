// What killed applies left of the host lock (see shell/prelude.ts
// mf_lock_alive): an entry whose process is gone blocks nothing, but plan
// shows it (an apply was killed there) and the next apply removes it, so the
// host ends with nothing of an interrupted run on it.
import { sh } from "../shell/builder.ts";
import type { HostLockResource, ResourceHandler } from "./types.ts";

export const hostLockHandler: ResourceHandler<HostLockResource> = {
  // ~ lines: an apply removes them when it takes the lock, before it checks the host is as planned
  probe: () => sh`mf_lock_leftovers`,
  diff(r, lines) {
    const dead = lines.filter((l) => l.startsWith("~dead ")).map((l) => l.slice(6));
    if (dead.length === 0) return null;
    const pids = dead.map((d) => /^mailfleet\.lock\.(\d+)\./.exec(d)?.[1] ?? "of an older mailfleet");
    return {
      id: r.id,
      kind: "hostLock",
      action: "delete",
      target: "/var/run/mailfleet.lock",
      summary: `remove the lock ${dead.length === 1 ? "entry" : "entries"} left by ${dead.length === 1 ? "an apply" : "applies"} that ended without releasing ${dead.length === 1 ? "it" : "them"} (pid ${pids.join(", ")})`,
    };
  },
  // mf_lock removed them already, taking the lock
  apply: () => sh`:`,
};
