// What an MTA's queue is for a switch between MTAs, and the two resource
// kinds that hand a queue over (roles/lib/mta/handover-resource.ts,
// parked-mail.ts): mail knowledge, so it lives with the MTA roles.
import type { Sh } from "../../../src/shell/builder.ts";

/**
 * The queue of an MTA, as its role describes it for a handover: plain data
 * and code. Every command runs on the host with the root prefix applied.
 */
export interface MtaQueue {
  /** The MTA's software ("postfix", "nullmailer"): roles with the same one share a queue and never hand over to each other. */
  mta: string;
  /** For messages, e.g. "Postfix". */
  title: string;
  package: string;
  service: string;
  /** Shell functions the commands below use. */
  functions: Sh;
  /** Succeeds when this MTA's queue is there to look at. */
  present: Sh;
  /** Prints the number of messages queued. */
  count: Sh;
  /** Asks the MTA to deliver what it holds now (its service running when `flushNeedsService`). */
  flush: Sh;
  flushNeedsService: boolean;
  /** Moves every queued message into the parking directory given as the next word, in the parking format; fails unless the queue is then empty. */
  park: Sh;
  /** How to hand it a message: sendmail and its fixed options, e.g. ["/usr/sbin/sendmail", "-C", "/etc/postfix"]. */
  sendmail: string[];
  /** Prints what parseStatus reads: the queue as the MTA's own tool shows it where it has one (postqueue -j, smtpctl show queue), else its spool. */
  status: Sh;
  /** The messages in what `status` printed. */
  parseStatus(text: string): QueuedMessage[];
  /** Which states this MTA tells apart (nullmailer: no deferred, no hold), and whether it records why a delivery failed. */
  knows: { states: readonly QueueState[]; errors: boolean };
  /** Holds every queued message / lets them go again, where the MTA can. */
  hold?: Sh;
  release?: Sh;
}

/** queued: waiting for a first try or being tried; deferred: tried and failed for now; held: kept back by an operator; failed: given up, kept by the MTA. */
export type QueueState = "queued" | "deferred" | "held" | "failed";

export interface QueuedMessage {
  state: QueueState;
  bytes: number;
  /** When the MTA took it, in seconds since the epoch on the host's clock. */
  arrived: number;
  /** Why delivery to a destination (a recipient's domain) failed last, where the MTA records it. */
  errors: { destination: string; text: string }[];
}

/**
 * Takes over the queue of an MTA being replaced: asks it to deliver, waits,
 * stops it and parks what is left (one file per message) for the new MTA.
 * Runs before the new MTA's package, since on Debian installing that removes
 * the old one.
 */
export interface MtaHandoverResource {
  kind: "mtaHandover";
  id: string;
  queue: MtaQueue;
  /** Remove the old package afterwards (where installing the new one does not). */
  removePackage: boolean;
  /** Where messages wait: a file each with the sender line, recipient lines, a blank line, the message (nullmailer's queue format). */
  parking: string;
  /** Seconds to wait for the old MTA's delivery attempt. */
  wait: number;
}

/** Delivers parked messages through the new MTA's sendmail; each file is deleted only after sendmail accepted it. */
export interface ParkedMailResource {
  kind: "parkedMail";
  id: string;
  parking: string;
  /** Handover resources that fill the parking directory: when one changes, this delivers in the same apply. */
  inputs: string[];
  /** The new MTA's sendmail and its fixed options, e.g. ["/usr/sbin/sendmail", "-C", "/etc/postfix-out"]. */
  sendmail: string[];
}

declare module "../../../src/resources/types.ts" {
  interface ResourceKinds {
    mtaHandover: MtaHandoverResource;
    parkedMail: ParkedMailResource;
  }
}
