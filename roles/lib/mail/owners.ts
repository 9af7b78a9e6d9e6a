// Who may send as which address (a submission server's sender login map):
// a user owns its own address and every alias whose expansion, through
// other aliases, reaches that user and nothing else. An alias reaching two
// users or any address outside the served mailboxes is owned by no one, so
// no one may send as it.
import type { MailAlias } from "./model.ts";

/** address -> the login (user@domain) that owns it, sorted by address; `users` are the mailboxes' addresses. */
export function addressOwners(users: readonly string[], aliasList: readonly MailAlias[]): Map<string, string> {
  const mailboxes = new Set(users);
  const aliases = new Map(aliasList.map((a) => [a.address, a.targets.map((t) => t.toLowerCase())] as const));
  const memo = new Map<string, string | null>();
  const visiting = new Set<string>();

  /** The one mailbox `address` reaches, or null (several, one outside, or a cycle). */
  const owner = (address: string): string | null => {
    if (mailboxes.has(address)) return address;
    const targets = aliases.get(address);
    if (!targets) return null;
    if (memo.has(address)) return memo.get(address)!;
    if (visiting.has(address)) return null;
    visiting.add(address);
    const ends = new Set(targets.map(owner));
    visiting.delete(address);
    const only = ends.size === 1 ? [...ends][0]! : null;
    memo.set(address, only);
    return only;
  };

  const owners = new Map<string, string>(users.map((u) => [u, u]));
  for (const a of aliases.keys()) {
    const o = owner(a);
    if (o) owners.set(a, o);
  }
  return new Map([...owners].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
