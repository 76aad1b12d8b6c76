/**
 * A whatsapp-web.js `RemoteAuth` store on Redis, so a WhatsApp Web login made on one host can be
 * restored on another (after a move, or when a replacement process takes over).
 *
 * RemoteAuth zips the browser session to `<dataPath>/<session>.zip` and calls `save`; on start it
 * calls `extract` with the path to write the zip to. The zip is kept as one Redis string. Calls
 * are rare (a start, then a backup every few minutes), so each opens its own short connection:
 * nothing stays open for the channel to close.
 *
 * Only one process may run a given session at a time: WhatsApp takes the session away from the
 * older one (`CONFLICT`). The store shares it across hosts; it does not make two hosts serve it.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Redis } from "ioredis";

export interface RedisAuthStoreOptions {
  redisUrl: string;
  /** Keys are `<keyPrefix><session>`. */
  keyPrefix: string;
  /** RemoteAuth's dataPath: where it leaves the zip `save` reads. */
  dataPath: string;
}

export class RedisAuthStore {
  constructor(private readonly o: RedisAuthStoreOptions) {}

  async sessionExists({ session }: { session: string }): Promise<boolean> {
    return this.with(async (r) => (await r.exists(this.key(session))) === 1);
  }

  async save({ session }: { session: string }): Promise<void> {
    const zip = await readFile(path.join(this.o.dataPath, `${session}.zip`));
    await this.with((r) => r.set(this.key(session), zip));
  }

  async extract({ session, path: to }: { session: string; path: string }): Promise<void> {
    const zip = await this.with((r) => r.getBuffer(this.key(session)));
    if (!zip) return;
    // On a host that never ran this session RemoteAuth's dataPath does not exist yet (it creates
    // only the profile folder, and only when there is nothing to restore).
    await mkdir(path.dirname(to), { recursive: true });
    await writeFile(to, zip);
  }

  async delete({ session }: { session: string }): Promise<void> {
    await this.with((r) => r.del(this.key(session)));
  }

  private key(session: string): string {
    return `${this.o.keyPrefix}${session}`;
  }

  private async with<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
    const r = new Redis(this.o.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 5_000 });
    r.on("error", () => {}); // reported by the failing command instead
    try {
      await r.connect();
      return await fn(r);
    } finally {
      r.disconnect();
    }
  }
}
