// Rules about `mail:` that every role reading it applies (the loader reports
// a problem found twice once): aliases point somewhere real, no name is both
// a user and an alias; and, for the MTA that accepts the domains, every
// adminaddr of the fleet in one of them reaches a real mailbox.
import type { HostConfig, RuleProblem } from "../../../src/inventory/catalog.ts";
import type { Links } from "../../types.ts";
import { mailOf, type Mail } from "./model.ts";
import type { MailSettings } from "./schema.ts";

/** Whether `address` is a user or an alias of `mail`. */
function known(mail: Mail, address: string): boolean {
  return mail.domains.some((d) => d.users.some((u) => u.address === address) || d.aliases.some((a) => a.address === address));
}

/**
 * The aliases that lead back to themselves (a -> b -> a, across domains too):
 * one shortest loop per group of aliases that point at each other, starting
 * at its smallest address. Linear in the aliases (Tarjan's components, then
 * one search per component).
 */
export function aliasCycles(mail: Mail): string[][] {
  const graph = new Map(mail.domains.flatMap((d) => d.aliases.map((a) => [a.address, a.targets.map((t) => t.toLowerCase())] as const)));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    // iterative Tarjan: frames of (node, next target to look at)
    const frames: [string, number][] = [[root, 0]];
    index.set(root, index.size);
    low.set(root, index.get(root)!);
    stack.push(root);
    onStack.add(root);
    while (frames.length) {
      const frame = frames[frames.length - 1]!;
      const [v, i] = frame;
      const targets = (graph.get(v) ?? []).filter((t) => graph.has(t));
      if (i < targets.length) {
        frame[1]++;
        const w = targets[i]!;
        if (!index.has(w)) {
          index.set(w, index.size);
          low.set(w, index.get(w)!);
          stack.push(w);
          onStack.add(w);
          frames.push([w, 0]);
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
        continue;
      }
      frames.pop();
      if (frames.length) {
        const parent = frames[frames.length - 1]![0];
        low.set(parent, Math.min(low.get(parent)!, low.get(v)!));
      }
      if (low.get(v) === index.get(v)) {
        const c: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          c.push(w);
        } while (w !== v);
        if (c.length > 1) components.push(c);
      }
    }
  }
  return components
    .map((c) => {
      const members = new Set(c);
      const start = [...c].sort()[0]!;
      // shortest way from start back to itself inside the component
      const from = new Map<string, string>();
      const queue = [start];
      for (let q = 0; q < queue.length; q++) {
        const v = queue[q]!;
        for (const t of graph.get(v) ?? []) {
          if (!members.has(t) || from.has(t)) continue;
          from.set(t, v);
          if (t === start) break;
          queue.push(t);
        }
        if (from.has(start)) break;
      }
      const loop = [start];
      for (let v = from.get(start)!; v !== start; v = from.get(v)!) loop.splice(1, 0, v);
      return loop;
    })
    .sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

export function mailRules(settings: MailSettings | undefined, role: string): RuleProblem[] {
  const out: RuleProblem[] = [];
  const domains = settings?.domains ?? {};
  if (Object.keys(domains).length === 0) {
    out.push({ field: ["mail"], message: `role ${role} needs mail.domains: the domains this host serves, with their users (and aliases)` });
    return out;
  }
  const mail = mailOf(settings);
  for (const d of mail.domains) {
    const users = new Set(d.users.map((u) => u.name));
    for (const [name, targets] of Object.entries(domains[d.name]?.aliases ?? {})) {
      const field = ["mail", "domains", d.name, "aliases", name];
      if (users.has(name)) out.push({ field, message: `${name}@${d.name} is both a user and an alias; keep one of them` });
      for (const t of Array.isArray(targets) ? targets : [targets]) {
        const address = t.includes("@") ? t : `${t}@${d.name}`;
        const domain = address.slice(address.lastIndexOf("@") + 1);
        if (address === `${name}@${d.name}`) out.push({ field, message: `alias ${name}@${d.name} points at itself` });
        else if (mail.domains.some((x) => x.name === domain) && !known(mail, address)) {
          out.push({ field, message: `alias ${name}@${d.name} points at ${address}, which is no user or alias of ${domain}; add it or point elsewhere` });
        }
      }
    }
  }
  for (const cycle of aliasCycles(mail)) {
    const [first] = cycle;
    const at = first!.lastIndexOf("@");
    out.push({
      field: ["mail", "domains", first!.slice(at + 1), "aliases", first!.slice(0, at)],
      message: `aliases ${[...cycle, first].join(" -> ")} form a cycle: mail to them would loop until it bounces; point one of them at a user`,
    });
  }
  return out;
}

/** What a host accepts or stores, as a comparable list of addresses. */
const mailboxes = (h: HostConfig) => mailOf(h.mail as MailSettings | undefined).users.map((u) => u.address).join(" ");

/**
 * An MTA delivering to a store on another host must accept exactly the
 * store's mailboxes: what it accepts and the store refuses would bounce
 * after it was queued (backscatter).
 */
export function sameMailboxesRule(mta: HostConfig, store: HostConfig): RuleProblem[] {
  if (mailboxes(mta) === mailboxes(store)) return [];
  return [
    {
      field: ["mail", "domains"],
      message: `${mta.name} and its store ${store.name} have different mail.domains users; define mail: once (in defaults or their group) so both accept the same mailboxes`,
    },
  ];
}

/** Every host's adminaddr that lies in a domain `hub` serves must be a user or an alias there; the problem is placed at that host's adminaddr. */
export function adminaddrRules(hub: HostConfig, fleet: readonly HostConfig[]): RuleProblem[] {
  const mail = mailOf(hub.mail as MailSettings | undefined);
  const out: RuleProblem[] = [];
  for (const h of fleet) {
    const a = h.adminaddr;
    if (!a) continue;
    const domain = a.slice(a.lastIndexOf("@") + 1).toLowerCase();
    const local = a.slice(0, a.lastIndexOf("@")).toLowerCase();
    if (!mail.domains.some((d) => d.name === domain) || known(mail, `${local}@${domain}`)) continue;
    out.push({
      host: h.name,
      field: ["adminaddr"],
      message: `adminaddr ${a} would be refused: hub ${hub.name} serves ${domain}, which has no user or alias '${local}'; add mail.domains.${domain}.aliases.${local} (e.g. pointing at a user) or a user ${local}`,
    });
  }
  return out;
}

/**
 * An MTA's store on another host (hub.store, opensmtpd.store): a host of the
 * inventory whose roles offer a mail store, at an address the MTA can reach,
 * holding the same mailboxes. `field` is where the MTA names it.
 */
export function storeRules(mta: HostConfig, store: string, field: string[], { fleet, links }: { fleet: readonly HostConfig[]; links: Links }): RuleProblem[] {
  const storeHost = fleet.find((x) => x.name === store);
  const setting = field.join(".");
  if (!storeHost) return [{ field, message: `${setting} names ${store}, which is no host of this inventory` }];
  const offered = links.of(store).mailStore;
  if (!offered) return [{ field, message: `${setting} names ${store}, which offers no mail store: give it a role that does (${links.providers("mailStore").join(", ")})` }];
  const out: RuleProblem[] = [];
  if (!offered.lmtp.address) {
    out.push({ host: store, field: ["address"], message: `${store} stores the mail of ${mta.name} over LMTP/TCP, but its address is unknown; set address: (or the store's own LMTP address setting)` });
  }
  out.push(...sameMailboxesRule(mta, storeHost));
  return out;
}
