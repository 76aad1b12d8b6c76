/**
 * Access to the dashboard, the statistics API, /metrics and the queue view when BOTFLOW_TOKEN
 * is set: `Authorization: Bearer <token>` (scripts, Prometheus) or the session cookie the
 * dashboard's login form sets (browsers). Without a token everything is open, which is what
 * the embedded default on 127.0.0.1 wants.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

export const SESSION_COOKIE = "botflow_session";

export interface Auth {
  /** True when a token is configured. */
  readonly enabled: boolean;
  /** Whether the request carries the token or a valid session. */
  allows(req: FastifyRequest): boolean;
  /** Whether the request carries the token as `Authorization: Bearer` (which no other site can add). */
  bearer(req: FastifyRequest): boolean;
  /** Whether `candidate` is the token (timing-safe). */
  matches(candidate: string): boolean;
  /** The Set-Cookie value of a session for a browser that gave the right token. */
  sessionCookie(secure: boolean): string;
}

export function createAuth(token: string | undefined): Auth {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  const tokenDigest = token !== undefined ? digest(token) : undefined;
  // The cookie is derived from the token, so rotating the token ends every session.
  const session = token !== undefined ? createHmac("sha256", token).update("botflow dashboard session v1").digest("base64url") : undefined;
  const matches = (candidate: string) => tokenDigest !== undefined && timingSafeEqual(digest(candidate), tokenDigest);
  const bearer = (req: FastifyRequest) => {
    const header = req.headers.authorization;
    return header?.startsWith("Bearer ") === true && matches(header.slice(7).trim());
  };
  return {
    enabled: token !== undefined,
    matches,
    bearer,
    allows(req) {
      if (!token || !session) return true;
      if (bearer(req)) return true;
      const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
      return cookie !== undefined && timingSafeEqual(digest(cookie), digest(session));
    },
    sessionCookie(secure) {
      return `${SESSION_COOKIE}=${session ?? ""}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000${secure ? "; Secure" : ""}`;
    },
  };
}

/**
 * Whether a state-changing request comes from a page of this server. Browsers send `Origin` on
 * every cross-site POST (and on same-origin fetch POSTs), so a request whose Origin names another
 * host is a cross-site request forgery, whatever cookie it carries. A request without Origin is
 * not from a browser page (curl, scripts with a Bearer token) or from a same-origin form in an old
 * browser; `SameSite=Strict` covers those. Behind a proxy, the forwarded host counts too.
 */
export function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return req.headers["sec-fetch-site"] !== "cross-site";
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false; // "null" (sandboxed frames, file:) or garbage
  }
  const forwarded = req.headers["x-forwarded-host"];
  const hosts = [req.headers.host, ...(typeof forwarded === "string" ? forwarded.split(",").map((h) => h.trim()) : [])];
  return hosts.includes(host);
}

/** The 403 a cross-site state-changing request gets. */
export function refuseCrossSite(reply: FastifyReply) {
  return reply.code(403).send({ error: "cross_site", message: "state-changing requests are accepted from botflow's own pages (Origin must match the host) or with Authorization: Bearer" });
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * A preHandler that answers 401 (API) or redirects to the login page (a browser asking for HTML).
 * Requests that change state (POST, …) must also come from this server's own pages (see
 * `sameOrigin`), unless they carry the token as a Bearer header, which no other site can add.
 */
export function requireAuth(auth: Auth, loginPath: string) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (!SAFE_METHODS.has(req.method) && !sameOrigin(req) && !auth.bearer(req)) return refuseCrossSite(reply);
    if (auth.allows(req)) return;
    if (req.method === "GET" && (req.headers.accept ?? "").includes("text/html")) return reply.redirect(loginPath, 303);
    return reply
      .code(401)
      .header("www-authenticate", 'Bearer realm="botflow"')
      .send({ error: "unauthorized", message: "send Authorization: Bearer <BOTFLOW_TOKEN>, or log in at /dashboard/login" });
  };
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}
