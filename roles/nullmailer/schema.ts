import { z } from "zod";
import { absolutePath, duration, emailAddress, hostname } from "../../src/inventory/fields.ts";

export const nullmailerSettings = z.strictObject({
  me: hostname.optional().describe("name of this host in Received lines; default <host>.<domain>"),
  defaultdomain: hostname.optional(),
  defaulthost: hostname.optional(),
  idhost: hostname.optional(),
  helohost: hostname.optional(),
  allmailfrom: emailAddress.optional().describe("envelope sender for all mail (does not rewrite From:)"),
  pausetime: duration.optional(),
  maxpause: duration.optional(),
  sendtimeout: duration.optional(),
  queuelifetime: duration.optional(),
  persistentSpool: absolutePath
    .optional()
    .describe("directory that keeps queue, tmp and failed across reprovisioning; the spool links to it"),
  persistentSpoolDataset: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+(\/[A-Za-z0-9_.:-]+)*$/, "a ZFS dataset name such as zones/<uuid>/data/spool")
    .optional()
    .describe("ZFS dataset created and mounted at persistentSpool when missing (SmartOS)"),
  injectShim: z
    .enum(["auto", "always", "never"])
    .optional()
    .describe("wrap nullmailer-inject to drop leading 'From ' lines; auto: where the installed binary loses the headers after one (probed; fixed in nullmailer 2.1)"),
  removePostfix: z
    .boolean()
    .optional()
    .describe("hand Postfix's queue to nullmailer, then remove Postfix (default true; on Debian installing nullmailer removes Postfix anyway)"),
});
export type NullmailerSettings = z.infer<typeof nullmailerSettings>;

/** The settings sections the role reads. */
export const nullmailerSections = { nullmailer: nullmailerSettings };
