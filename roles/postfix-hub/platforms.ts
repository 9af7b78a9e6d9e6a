// Postfix on each platform (shared with postfix-satellite), and the sockets
// Dovecot opens for it when both run on the hub.
import { postfixSockets, type PostfixSockets } from "../lib/mail/sockets.ts";
import { postfixPlatforms, type PostfixData } from "../lib/postfix/platforms.ts";

export interface PostfixHubData extends PostfixData {
  /** Where Dovecot on the same host listens for Postfix (LMTP, auth); the dovecot role opens the same ones. */
  sockets: PostfixSockets;
}

export const postfixHubPlatforms = {
  smartos: { ...postfixPlatforms.smartos, sockets: postfixSockets(postfixPlatforms.smartos) },
  debian: { ...postfixPlatforms.debian, sockets: postfixSockets(postfixPlatforms.debian) },
  freebsd: { ...postfixPlatforms.freebsd, sockets: postfixSockets(postfixPlatforms.freebsd) },
} satisfies Record<string, PostfixHubData>;
