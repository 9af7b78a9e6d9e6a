// Postfix on each platform (shared with postfix-satellite), and the sockets
// it asks the mail store and the SASL server on its host to open for it.
import { postfixSockets, type PostfixSockets } from "./sockets.ts";
import { postfixPlatforms, type PostfixData } from "../lib/postfix/platforms.ts";

export interface PostfixHubData extends PostfixData {
  /** Where the mail store and the SASL server on the same host listen for Postfix (LMTP, auth): offered to them. */
  sockets: PostfixSockets;
}

export const postfixHubPlatforms = {
  smartos: { ...postfixPlatforms.smartos, sockets: postfixSockets(postfixPlatforms.smartos) },
  debian: { ...postfixPlatforms.debian, sockets: postfixSockets(postfixPlatforms.debian) },
  freebsd: { ...postfixPlatforms.freebsd, sockets: postfixSockets(postfixPlatforms.freebsd) },
} satisfies Record<string, PostfixHubData>;
