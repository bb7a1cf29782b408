// nats-server with JetStream on loopback for cluster tests, its store in a directory that survives restarts.
// pause()/resume() freeze it with SIGSTOP/SIGCONT: connections stay open and nothing is answered, as a stalled
// or overloaded NATS would behave.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { logDir, waitForExit } from './server.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Nats {
  constructor(port, dir) {
    this.port = port;
    this.dir = dir;
    this.url = `nats://127.0.0.1:${port}`;
  }
  async start() {
    const log = fs.openSync(path.join(logDir(), `nats-${process.pid}-${this.port}.log`), 'a');
    this.proc = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.dir], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const proc = this.proc;
    process.on('exit', () => {
      proc.kill('SIGCONT');
      proc.kill('SIGKILL');
    });
    for (let i = 0; i < 100; i += 1) {
      const up = await new Promise((resolve) => {
        const socket = net.connect(this.port, '127.0.0.1', () => { socket.end(); resolve(true); });
        socket.on('error', () => resolve(false));
      });
      if (up) return;
      await sleep(100);
    }
    throw new Error('nats-server did not start');
  }
  pause() {
    this.proc.kill('SIGSTOP');
  }
  resume() {
    this.proc.kill('SIGCONT');
  }
  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGCONT'); // a paused server would not act on SIGTERM
    this.proc.kill('SIGTERM');
    if (!(await waitForExit(this.proc, 5000))) this.proc.kill('SIGKILL');
  }
}
