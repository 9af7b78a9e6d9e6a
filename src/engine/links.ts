// What the roles of a fleet offer each other (roles/types.ts Capabilities),
// computed once per inventory from each role's `offers` of its own settings
// and platform data, and handed to every role as `links`. Pure.
import type { Capabilities, Capability, Links, Role } from "../../roles/types.ts";
import type { HostConfig } from "../inventory/catalog.ts";
import { catalogRoles } from "./catalog.ts";
import { roleDataFor } from "./role-data.ts";

/** Platform data to use instead of a role's own, by role name (tests: Postfix as an instance). */
export type DataOverrides = Readonly<Record<string, unknown>>;

/** What the roles of one host offer, merged (two roles offering one capability on a host: the first listed wins). */
function hostOffers(host: HostConfig, roles: readonly Role[], overrides: DataOverrides): Partial<Capabilities> {
  const out: Partial<Capabilities> = {};
  for (const name of host.roles) {
    const role = roles.find((r) => r.name === name);
    if (!role || (role.platforms as Record<string, unknown>)[host.platform] === undefined) continue;
    const offered = role.offers(host, overrides[name] ?? roleDataFor(role, host.platform));
    for (const k of Object.keys(offered) as Capability[]) {
      if (!role.provides.includes(k)) throw new Error(`role ${role.name} offers ${k}, which it does not declare in provides`);
      if (!(k in out)) (out as Record<Capability, unknown>)[k] = offered[k];
    }
  }
  return out;
}

const cache = new WeakMap<readonly HostConfig[], WeakMap<readonly Role[], Map<HostConfig | undefined, Links>>>();

/** The links of `fleet` as `host` sees them ("this host" for `of()`); `overrides` replace roles' platform data. */
export function fleetLinks(fleet: readonly HostConfig[], host?: HostConfig, overrides: DataOverrides = {}): Links {
  const roles = catalogRoles();
  const memo = Object.keys(overrides).length === 0;
  if (memo) {
    const hit = cache.get(fleet)?.get(roles)?.get(host);
    if (hit) return hit;
  }
  const offers = new Map<string, Partial<Capabilities>>();
  const ofHost = (name: string) => {
    let o = offers.get(name);
    if (!o) {
      const h = fleet.find((x) => x.name === name);
      o = h ? hostOffers(h, roles, overrides) : {};
      offers.set(name, o);
    }
    return o;
  };
  const links: Links = {
    of: (name) => {
      const n = name ?? host?.name;
      return n === undefined ? {} : ofHost(n);
    },
    offering: (k) => fleet.flatMap((h) => {
      const offer = ofHost(h.name)[k];
      return offer === undefined ? [] : [{ host: h, offer }];
    }),
    providers: (k) => roles.filter((r) => r.provides.includes(k)).map((r) => r.name),
  };
  if (memo) {
    let byRoles = cache.get(fleet);
    if (!byRoles) cache.set(fleet, (byRoles = new WeakMap()));
    let byHost = byRoles.get(roles);
    if (!byHost) byRoles.set(roles, (byHost = new Map()));
    byHost.set(host, links);
  }
  return links;
}
