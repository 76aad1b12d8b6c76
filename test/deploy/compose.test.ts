/**
 * docker-compose.yml cannot be started on the CI machines (no Docker engine), so this checks
 * what would make it fail or lose data: BullMQ's Redis settings, a scalable worker service,
 * and that every variable given to a botflow process is one that process accepts (the web
 * process refuses unknown BOTFLOW_* names at start).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CONFIG_VARIABLES, loadConfig } from "../../app/config.ts";
import { WORKER_VARIABLES } from "../../cli/commands/worker.ts";

const root = path.resolve(import.meta.dirname, "../..");

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  container_name?: string;
}
const compose = parse(readFileSync(path.join(root, "docker-compose.yml"), "utf8"), { merge: true }) as { services: Record<string, Service> };
const svc = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
/** Compose's ${VAR:-default} and ${VAR:?message} with the variables unset. */
const interpolate = (v: string): string =>
  v.replace(/\$\{([A-Z_]+)(?::-([^}]*)|:\?[^}]*)?\}/g, (_, name: string, def?: string) => def ?? (name === "BOTFLOW_TOKEN" ? "a-token-of-sixteen-or-more" : ""));

describe("docker-compose.yml", () => {
  it("runs Redis the way BullMQ needs: noeviction and an append-only file", () => {
    const cmd = svc("redis").command?.join(" ") ?? "";
    expect(cmd).toMatch(/--maxmemory-policy noeviction/);
    expect(cmd).toMatch(/--appendonly yes/);
  });

  it("has a worker service that scales (no fixed name, no published port) on the web's image", () => {
    const worker = svc("worker");
    expect(worker.command).toEqual(["worker"]);
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    expect(worker.image).toBe(svc("web").image);
    expect(svc("web").build).toBe(".");
  });

  it("gives the web process only variables it accepts, and a configuration it starts with in production mode", () => {
    const env = Object.fromEntries(Object.entries(svc("web").environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));
    for (const name of Object.keys(env)) expect(Object.keys(CONFIG_VARIABLES)).toContain(name);
    const config = loadConfig(env, { cwd: root });
    expect(config.mode).toBe("production");
    expect(config.host).toBe("0.0.0.0");
  });

  it("gives workers only variables they read, and the same queue and database as the web process", () => {
    const worker = svc("worker").environment ?? {};
    const web = svc("web").environment ?? {};
    for (const name of Object.keys(worker)) if (name !== "NODE_ENV") expect(Object.keys(WORKER_VARIABLES)).toContain(name);
    for (const name of ["REDIS_URL", "DATABASE_URL", "BOTFLOW_QUEUE"]) expect(worker[name]).toBe(web[name]);
  });
});
