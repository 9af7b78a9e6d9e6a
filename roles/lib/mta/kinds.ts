// The resource kinds every MTA role uses for a switch between MTAs: each MTA
// role lists them among its own (roles/types.ts resourceKinds).
import { mtaHandoverHandler } from "./handover-resource.ts";
import { parkedMailHandler } from "./parked-mail.ts";

export const mtaResourceKinds = { mtaHandover: mtaHandoverHandler, parkedMail: parkedMailHandler };
