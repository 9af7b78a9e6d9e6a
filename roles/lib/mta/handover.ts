// A switch between any two MTAs, composed from their queues: every MTA role
// describes its queue once (an MtaQueue: count, flush, park, and its sendmail
// for parked mail), and a role that becomes a host's MTA parks what each other
// MTA still holds before its own package goes in (on Debian installing it
// removes the old one), then delivers the parked mail through itself once its
// service runs. No code is written per pair of MTAs.
import type { Platform } from "../../../src/platforms/types.ts";
import type { MtaHandoverResource, MtaQueue, ParkedMailResource } from "./types.ts";

/** Where parked messages wait between the old MTA and the new one. */
export const PARKING = "/var/spool/mailfleet-handover";

/** Seconds the old MTA is given to deliver before what it still holds is parked. */
const WAIT = 30;

export interface MtaSwitch {
  /** Before the new MTA's package: one per other MTA. */
  park: MtaHandoverResource[];
  /** After the new MTA's service. */
  deliver: ParkedMailResource;
}

/**
 * The resources that hand `others` over to `self`. Ids: `<idPrefix>:replace-<mta>`
 * for each MTA replaced, `<idPrefix>:deliver-parked` for the delivery.
 */
export function mtaSwitch(platform: Platform, self: Pick<MtaQueue, "mta" | "sendmail">, others: readonly MtaQueue[], idPrefix: string): MtaSwitch {
  const park = others
    .filter((q) => q.mta !== self.mta)
    .map(
      (queue): MtaHandoverResource => ({
        kind: "mtaHandover",
        id: `${idPrefix}:replace-${queue.mta}`,
        queue,
        removePackage: !platform.mtaPackagesConflict,
        parking: PARKING,
        wait: WAIT,
      }),
    );
  return {
    park,
    deliver: { kind: "parkedMail", id: `${idPrefix}:deliver-parked`, parking: PARKING, inputs: park.map((p) => p.id), sendmail: self.sendmail },
  };
}
