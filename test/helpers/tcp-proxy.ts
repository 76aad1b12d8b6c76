/**
 * A loopback TCP proxy a test puts between a client and a real server (PostgreSQL, Redis)
 * to make the server look unavailable and come back, without touching the server itself:
 * - `forward`: pipes bytes both ways;
 * - `refuse`:  stops listening, so new connections get ECONNREFUSED, and cuts the open ones;
 * - `reset`:   accepts and resets at once (ECONNRESET), and cuts the open ones;
 * - `blackhole`: accepts and never answers (a hung network); open ones are cut.
 *
 * @example
 * const proxy = await TcpProxy.start({ host: "127.0.0.1", port: 5432 });
 * await proxy.setMode("refuse"); ... await proxy.setMode("forward");
 */
import net from "node:net";

export type ProxyMode = "forward" | "refuse" | "reset" | "blackhole";

export class TcpProxy {
  mode: ProxyMode = "forward";
  /** Connections accepted in forward mode so far. */
  forwarded = 0;
  /** Connections accepted in any mode so far: in `reset` and `blackhole`, the client's connection attempts. */
  accepted = 0;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly target: { host: string; port: number },
    public port: number,
  ) {}

  /** Starts forwarding on a free loopback port. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target, 0);
    await proxy.listen();
    return proxy;
  }

  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  async setMode(mode: ProxyMode): Promise<void> {
    if (mode === this.mode) return;
    const wasListening = this.mode !== "refuse";
    this.mode = mode;
    if (mode !== "forward") this.cutAll();
    if (mode === "refuse" && wasListening) await this.unlisten();
    if (mode !== "refuse" && !wasListening) await this.listen();
  }

  async close(): Promise<void> {
    this.cutAll();
    await this.unlisten();
  }

  private listen(): Promise<void> {
    const server = net.createServer((client) => this.accept(client));
    this.server = server;
    return new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => {
        server.off("error", reject);
        this.port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  private unlisten(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    this.accepted++;
    if (this.mode === "reset") {
      client.resetAndDestroy();
      return;
    }
    this.track(client);
    client.on("error", () => client.destroy());
    if (this.mode === "blackhole") {
      client.resume(); // read and drop
      return;
    }
    this.forwarded++;
    const upstream = net.connect(this.target.port, this.target.host);
    this.track(upstream);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
  }

  private cutAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}
