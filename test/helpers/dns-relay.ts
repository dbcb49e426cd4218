// A UDP relay in front of an authoritative DNS server that can hold queries: a window between a DNS change and its verification.
import { createSocket, type RemoteInfo } from 'node:dgram';

export interface DnsRelay {
  /** host:port to give as the resolver. */
  address: string;
  /** Drop queries (the resolver times out) until release(). */
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

export async function startDnsRelay(upstreamPort: number): Promise<DnsRelay> {
  let holding = false;
  const socket = createSocket('udp4');
  socket.on('message', (query: Buffer, client: RemoteInfo) => {
    if (holding) return;
    const upstream = createSocket('udp4');
    let open = true;
    const done = () => {
      if (open) upstream.close();
      open = false;
    };
    upstream.once('message', (answer) => socket.send(answer, client.port, client.address, done));
    upstream.once('error', done);
    // An unanswered query must not keep its socket forever.
    setTimeout(done, 5_000).unref();
    upstream.send(query, upstreamPort, '127.0.0.1');
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    hold: () => void (holding = true),
    release: () => void (holding = false),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
