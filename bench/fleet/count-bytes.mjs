// Preloaded into the measured `runbook` process (node --import): counts the bytes on the wire
// of every outgoing TCP connection, per remote port, and writes them to the JSON file named by
// RUNBOOK_BENCH_BYTES when the process exits. These are the counters SshTransport.stats()
// reads (socket.bytesRead / bytesWritten, kept by Node after the socket closes); the CLI does
// not print them, and this changes nothing in what the CLI does.
import { writeFileSync } from 'node:fs';
import net from 'node:net';

const file = process.env.RUNBOOK_BENCH_BYTES;
if (file) {
  const sockets = [];
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function benchCountedConnect(...args) {
    const entry = { socket: this, port: null };
    sockets.push(entry);
    this.once('connect', () => {
      entry.port = this.remotePort;
    });
    return connect.apply(this, args);
  };
  process.on('exit', () => {
    const perPort = {};
    for (const { socket, port } of sockets) {
      if (port === null) continue;
      const p = (perPort[port] ??= { bytesIn: 0, bytesOut: 0, connections: 0 });
      p.bytesIn += socket.bytesRead;
      p.bytesOut += socket.bytesWritten;
      p.connections += 1;
    }
    writeFileSync(file, `${JSON.stringify(perPort)}\n`);
  });
}
