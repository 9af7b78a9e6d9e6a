// The unix sockets the hub asks the mail store and the SASL server on its
// host to open for it (its lmtpDelivery and saslClient offers): LMTP
// (delivery) and auth (SASL for submission). They live in Postfix's queue
// directory, where Postfix's chrooted services can reach them, owned by
// Postfix's mail_owner.
import type { PostfixData } from "../lib/postfix/platforms.ts";

export interface PostfixSockets {
  /** Absolute paths. */
  lmtp: string;
  auth: string;
  /** Owner of both (Postfix's mail_owner); mode 0600 (lmtp) and 0660 (auth). */
  user: string;
  group: string;
}

export function postfixSockets(pf: Pick<PostfixData, "queueDirectory" | "mailOwner" | "mailOwnerGroup">): PostfixSockets {
  return {
    lmtp: `${pf.queueDirectory}/private/dovecot-lmtp`,
    auth: `${pf.queueDirectory}/private/auth`,
    user: pf.mailOwner,
    group: pf.mailOwnerGroup,
  };
}
