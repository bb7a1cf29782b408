// A byte-for-byte stream forward, run as its own process inside a network namespace by lib/netns.mjs:
//   node nsforward.mjs LISTEN CONNECT      each one tcp:HOST:PORT or unix:PATH (tcp port 0: a free one)
// Prints "listening <port or path>" on stdout once it accepts connections, then forwards every connection to
// CONNECT until it is killed. A unix socket crosses namespaces (it lives in the file system), so a listener on a
// unix socket inside one namespace plus a TCP listener outside it joins the two; a TCP listener on 127.0.0.1 inside a
// client namespace gives its chromium an http://localhost origin for the server behind CONNECT.
import fs from 'node:fs';
import net from 'node:net';

function parse(spec) {
  if (spec.startsWith('unix:')) return { path: spec.slice(5) };
  const m = spec.match(/^tcp:(.+):(\d+)$/);
  if (!m) throw new Error(`nsforward: bad address ${spec} (tcp:HOST:PORT or unix:PATH)`);
  return { host: m[1], port: Number(m[2]) };
}

export function forward(listen, connect) {
  const server = net.createServer((client) => {
    const upstream = net.connect(connect);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  if (listen.path) fs.rmSync(listen.path, { force: true });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.path ? { path: listen.path } : { host: listen.host, port: listen.port }, () => resolve(server));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [listenSpec, connectSpec] = process.argv.slice(2);
  const server = await forward(parse(listenSpec), parse(connectSpec));
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'string' ? address : address.port}\n`);
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
}
