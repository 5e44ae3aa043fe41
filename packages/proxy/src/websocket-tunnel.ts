// A raw byte pipe between a client and its gateway after a successful 101.
// Raw bytes keep the gateway in charge of subprotocols, extensions, pings and
// backpressure; the proxy only learns frame boundaries, to say goodbye cleanly.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FrameGate } from './frame-gate.js';
import { closeFrame } from './ws-frames.js';

/** 1001: the endpoint is going away (here: the proxy is shutting down). */
export const GOING_AWAY = 1001;

export class WebSocketTunnel {
  readonly user: string;
  readonly closed: Promise<void>;
  readonly #client: Duplex;
  readonly #upstream: Socket;
  readonly #toUpstream = new FrameGate();
  readonly #toClient = new FrameGate();

  constructor(user: string, client: Duplex, upstream: Socket, clientHead: Buffer, upstreamHead: Buffer) {
    this.user = user;
    this.#client = client;
    this.#upstream = upstream;
    let done: () => void = () => {};
    this.closed = new Promise((resolve) => (done = resolve));
    const finish = (): void => {
      client.destroy();
      upstream.destroy();
      done();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', finish);
      socket.on('close', finish);
    }
    keepOpen(client);
    keepOpen(upstream);
    // Bytes that arrived with the handshake go first, in order.
    if (clientHead.length > 0) this.#toUpstream.write(clientHead);
    if (upstreamHead.length > 0) this.#toClient.write(upstreamHead);
    client.pipe(this.#toUpstream).pipe(upstream);
    upstream.pipe(this.#toClient).pipe(client);
  }

  /** Sends close frames both ways at the next frame boundary, then ends both sockets. */
  goAway(reason = 'proxy shutting down'): void {
    this.#toClient.closeAtBoundary(closeFrame(GOING_AWAY, reason, false));
    this.#toUpstream.closeAtBoundary(closeFrame(GOING_AWAY, reason, true));
  }

  destroy(): void {
    this.#client.destroy();
    this.#upstream.destroy();
  }
}

/** WebSockets live for hours: no idle timeout, TCP keepalive to notice dead peers. */
function keepOpen(socket: Duplex): void {
  const tcp = socket as Partial<Socket>;
  tcp.setTimeout?.(0);
  tcp.setNoDelay?.(true);
  tcp.setKeepAlive?.(true, 60_000);
}
