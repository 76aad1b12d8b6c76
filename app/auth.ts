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
  return {
    enabled: token !== undefined,
    matches,
    allows(req) {
      if (!token || !session) return true;
      const header = req.headers.authorization;
      if (header?.startsWith("Bearer ") && matches(header.slice(7).trim())) return true;
      const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
      return cookie !== undefined && timingSafeEqual(digest(cookie), digest(session));
    },
    sessionCookie(secure) {
      return `${SESSION_COOKIE}=${session ?? ""}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000${secure ? "; Secure" : ""}`;
    },
  };
}

/** A preHandler that answers 401 (API) or redirects to the login page (a browser asking for HTML). */
export function requireAuth(auth: Auth, loginPath: string) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
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
