// One meter server per user network, on that network's bridge gateway
// address: reachable from that user's gateway and from nowhere else. An
// address that does not exist yet (the network is created by `ocm up`) is
// tried again at the next sync.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { serveMeter, type MeterLog } from './meter-server.js';

export class MeterListeners {
  private readonly servers = new Map<string, Server>();

  constructor(private readonly handler: (req: IncomingMessage, res: ServerResponse) => void, private readonly log: MeterLog) {}

  /** Listen on exactly these host:port pairs; returns those that listen. */
  async sync(wanted: ReadonlyArray<{ host: string; port: number }>): Promise<string[]> {
    const keys = new Set(wanted.map((w) => `${w.host}:${w.port}`));
    await Promise.all([...this.servers.entries()].filter(([key]) => !keys.has(key)).map(async ([key, server]) => {
      this.servers.delete(key);
      await closeServer(server);
    }));
    await Promise.all(wanted.filter((w) => !this.servers.has(`${w.host}:${w.port}`)).map(async (w) => {
      const server = serveMeter(this.handler);
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(w.port, w.host, () => { server.off('error', reject); resolve(); });
        });
        this.servers.set(`${w.host}:${w.port}`, server);
      } catch (err) {
        this.log.warn({ host: w.host, port: w.port, err: (err as NodeJS.ErrnoException).code ?? String(err) }, 'the model meter cannot listen here yet');
      }
    }));
    return [...this.servers.keys()];
  }

  /** The port a listener got (for port 0 in tests). */
  port(host: string, port: number): number | undefined {
    const address = this.servers.get(`${host}:${port}`)?.address();
    return address !== null && typeof address === 'object' ? address.port : undefined;
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].map(closeServer));
    this.servers.clear();
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Streams in flight get a few seconds to finish, then go.
    setTimeout(() => server.closeAllConnections(), 5000).unref();
  });
}
