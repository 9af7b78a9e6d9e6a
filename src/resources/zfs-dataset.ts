import { sh } from "../shell/builder.ts";
import { sandboxSkip } from "./package.ts";
import type { ResourceHandler, ZfsDatasetResource } from "./types.ts";

export const zfsDatasetHandler: ResourceHandler<ZfsDatasetResource> = {
  probe: (r, ctx) => (ctx.sandbox || !ctx.platform.zfsProbe ? sh`echo sandbox` : ctx.platform.zfsProbe(r.dataset)),
  diff(r, lines, ctx) {
    if (ctx.sandbox) return sandboxSkip(r.id, "zfsDataset", r.dataset, `ZFS dataset ${r.dataset} at ${r.mountpoint}`);
    if (!ctx.platform.zfsCreate) {
      return { id: r.id, kind: "zfsDataset", action: "create", target: r.dataset, summary: `ZFS datasets are not supported on ${ctx.platform.name}`, data: { unsupported: true } };
    }
    const [state, mountpoint] = (lines[0] ?? "").trim().split(/\s+/, 2);
    if (state === "present") {
      if (mountpoint === r.mountpoint) return null;
      return {
        id: r.id,
        kind: "zfsDataset",
        action: "update",
        target: r.dataset,
        summary: `ZFS dataset ${r.dataset} is mounted at ${mountpoint}, not ${r.mountpoint}: fix it by hand (mailfleet does not remount datasets holding mail)`,
        data: { conflict: true },
      };
    }
    return { id: r.id, kind: "zfsDataset", action: "create", target: r.dataset, summary: `create ZFS dataset ${r.dataset} mounted at ${r.mountpoint}` };
  },
  apply(r, change, ctx) {
    if (change.data?.unsupported || change.data?.conflict || !ctx.platform.zfsCreate) return sh`mf_fail ${change.summary}`;
    return sh`${ctx.platform.zfsCreate(r.dataset, r.mountpoint)} || mf_fail ${`cannot create ZFS dataset ${r.dataset}`}`;
  },
};
