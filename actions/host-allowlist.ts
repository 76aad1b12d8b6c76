/**
 * Which hosts http__request may call (BOTFLOW_HTTP_ALLOW_HOSTS): exact names (`api.example.com`,
 * `127.0.0.1`) and `*.` wildcards (`*.crm.example` is every name under crm.example, at any depth,
 * but not crm.example itself). Any port of an allowed host. Nothing is allowed by default, so a
 * scenario file alone can never make the server call an address the operator did not name.
 *
 * @example
 * hostAllowed("eu.crm.example", ["api.example.com", "*.crm.example"]); // true
 */

/** The pattern an allowlist entry must match: a host name, an IPv4 address, `[IPv6]`, or `*.` and a name. */
export const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$|^\[[0-9a-f:.]+\]$/;

/** Whether `host` (a URL's hostname) is allowed by one of `patterns`. */
export function hostAllowed(host: string, patterns: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return patterns.some((p) => (p.startsWith("*.") ? h.endsWith(p.slice(1)) && h.length > p.length - 1 : h === p));
}

/** Why `host` is refused, naming the setting to change. */
export function hostRefusal(host: string, patterns: readonly string[]): string {
  if (patterns.length === 0) {
    return `host "${host}" is not allowed: BOTFLOW_HTTP_ALLOW_HOSTS is empty, so no host is; set it to the hosts scenarios may call, e.g. BOTFLOW_HTTP_ALLOW_HOSTS=${host}`;
  }
  return `host "${host}" is not in BOTFLOW_HTTP_ALLOW_HOSTS (${patterns.join(", ")}); add it there, or call an allowed host`;
}

/**
 * The scheme and authority a URL template starts with, when it has a literal one:
 * `{ scheme: "https", host: "api.example.com" }`, or `{ templated: true }` when the authority holds
 * a `{{…}}` (checked at run time), or a problem.
 */
export function literalOrigin(template: string): { scheme: string; host: string } | { templated: true } | { problem: string } {
  const m = /^(https?):\/\/([^/?#]*)/i.exec(template);
  if (!m) return { problem: `url must start with http:// or https:// written out (not from a variable), e.g. https://api.example.com/orders/{{order_id}}` };
  const authority = m[2] as string;
  if (authority.includes("{{")) return { templated: true };
  if (authority.includes("@")) return { problem: "url must not carry a user or password (user:pass@host); send credentials in a header, e.g. Authorization: Bearer {{env.CRM_TOKEN}}" };
  try {
    const url = new URL(`${(m[1] as string).toLowerCase()}://${authority}/`);
    if (url.hostname === "") throw new Error("no host");
    return { scheme: url.protocol.slice(0, -1), host: url.hostname };
  } catch {
    return { problem: `url has no valid host in "${authority.slice(0, 80)}"` };
  }
}
