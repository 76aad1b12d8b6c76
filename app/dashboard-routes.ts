/**
 * The CSAT dashboard page (GET /dashboard: plain HTML, CSS and JS in app/dashboard/, no build
 * step), the charting library it draws with (Chart.js's UMD build, read from node_modules and
 * served by the app, so the page works offline and under a `script-src 'self'` policy) and,
 * when BOTFLOW_TOKEN is set, its login form that trades the token for a session cookie
 * (rate-limited per client address: LoginLimiter; cross-site posts refused).
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { refuseCrossSite, requireAuth, sameOrigin, type Auth } from "./auth.ts";
import { LoginLimiter } from "./login-limiter.ts";

const HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

async function asset(name: string): Promise<string> {
  return readFile(new URL(`./dashboard/${name}`, import.meta.url), "utf8");
}

/** Chart.js's browser build (UMD, minified): its package exports only the module entry points, so it is found beside them. */
async function chartLibrary(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve("chart.js");
  return readFile(path.join(path.dirname(entry), "chart.umd.min.js"), "utf8");
}

/** Registers /dashboard, its assets, and /dashboard/login. */
export async function dashboardRoutes(app: FastifyInstance, o: { auth: Auth; loginLimiter?: LoginLimiter }): Promise<void> {
  const limiter = o.loginLimiter ?? new LoginLimiter();
  const [page, js, chartsJs, css, login, chartJs] = await Promise.all([asset("index.html"), asset("dashboard.js"), asset("charts.js"), asset("dashboard.css"), asset("login.html"), chartLibrary()]);
  const loginPage = (error: string) => login.replace("<!--ERROR-->", error);

  app.get("/dashboard", { preHandler: requireAuth(o.auth, "/dashboard/login") }, async (_req, reply) => reply.headers(HEADERS).type("text/html; charset=utf-8").send(page));
  app.get("/dashboard/dashboard.js", async (_req, reply) => reply.headers(HEADERS).type("text/javascript; charset=utf-8").send(js));
  app.get("/dashboard/charts.js", async (_req, reply) => reply.headers(HEADERS).type("text/javascript; charset=utf-8").send(chartsJs));
  // The library is public code, like the page's own script: no token needed to fetch it.
  app.get("/dashboard/vendor/chart.umd.min.js", async (_req, reply) => reply.headers(HEADERS).header("cache-control", "public, max-age=86400").type("text/javascript; charset=utf-8").send(chartJs));
  app.get("/dashboard/dashboard.css", async (_req, reply) => reply.headers(HEADERS).type("text/css; charset=utf-8").send(css));

  await app.register(async (scope) => {
    scope.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: 4096 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    });
    scope.get("/dashboard/login", async (_req, reply) => {
      if (!o.auth.enabled) return reply.redirect("/dashboard", 303);
      return reply.headers(HEADERS).type("text/html; charset=utf-8").send(loginPage(""));
    });
    scope.post("/dashboard/login", async (req, reply) => {
      if (!o.auth.enabled) return reply.redirect("/dashboard", 303);
      // A login form posted from another site would log the victim into the attacker's session.
      if (!sameOrigin(req)) return refuseCrossSite(reply);
      const wait = limiter.blockedFor(req.ip);
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000);
        return reply
          .code(429)
          .header("retry-after", String(seconds))
          .headers(HEADERS)
          .type("text/html; charset=utf-8")
          .send(loginPage(`Too many wrong tokens from this address. Try again in ${Math.ceil(seconds / 60)} min.`));
      }
      const token = (req.body as Record<string, unknown> | undefined)?.token;
      if (typeof token !== "string" || !o.auth.matches(token)) {
        limiter.failed(req.ip);
        req.log.warn({ path: "/dashboard/login" }, "dashboard login with a wrong token");
        return reply.code(401).headers(HEADERS).type("text/html; charset=utf-8").send(loginPage("That is not the token. Ask whoever runs botflow for BOTFLOW_TOKEN."));
      }
      limiter.succeeded(req.ip);
      const secure = req.protocol === "https";
      return reply.header("set-cookie", o.auth.sessionCookie(secure)).redirect("/dashboard", 303);
    });
  });
}
