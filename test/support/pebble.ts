// A real ACME CA on loopback for tests: Pebble with its own TLS certificate
// (made with openssl), and pebble-challtestsrv as its DNS server answering
// every name with 127.0.0.1. Both are killed by PID when the test ends.
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, get } from 'node:https';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { connect } from 'node:tls';
import { freePort, type AfterHook } from './docker.js';
import { waitFor } from './wait.js';

export interface Pebble {
  /** ACME directory URL. */
  directory: string;
  /** PEM of the CA Pebble's own API is served with (settings.tls.acme.caFile). */
  apiCaFile: string;
  /** PEM file of Pebble's issuing root: what served chains must verify against. */
  rootFile: string;
  dir: string;
  /** pebble-challtestsrv's management API: what the CA's DNS answers. */
  dnsManagement: string;
}

export interface PebbleOptions {
  /** Port the CA connects to for HTTP-01 (the proxy's HTTP listener). */
  httpPort: number;
}

/** Resolves once `ready` appears in the child's output; rejects with that output if it exits first. */
function started(child: ChildProcess, ready: RegExp, what: string): Promise<void> {
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} not ready after 15 s:\n${output}`)), 15_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited early (${code}):\n${output}`));
    });
  });
}

function kill(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
}

export async function startPebble(t: AfterHook, options: PebbleOptions): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), 'ocm-pebble-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const apiCaFile = join(dir, 'api-cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', join(dir, 'api-key.pem'), '-out', apiCaFile], { stdio: 'pipe' });
  const [dnsPort, dnsMgmt, acmePort, mgmtPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const dns = spawn('pebble-challtestsrv', ['-dns01', `127.0.0.1:${dnsPort}`, '-management', `127.0.0.1:${dnsMgmt}`,
    '-http01', '', '-https01', '', '-tlsalpn01', '', '-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => kill(dns));
  await started(dns, /Starting management server/, 'pebble-challtestsrv');
  writeFileSync(join(dir, 'pebble.json'), JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`, managementListenAddress: `127.0.0.1:${mgmtPort}`,
      certificate: apiCaFile, privateKey: join(dir, 'api-key.pem'),
      httpPort: options.httpPort, tlsPort: await freePort(), ocspResponderURL: '', externalAccountBindingRequired: false,
    },
  }));
  const pebble = spawn('pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_VA_ALWAYS_VALID: '0' },
  });
  t.after(() => kill(pebble));
  await started(pebble, /ACME directory available/, 'pebble');
  const rootFile = join(dir, 'root.pem');
  writeFileSync(rootFile, await fetchText(`https://127.0.0.1:${mgmtPort}/roots/0`, readFileSync(apiCaFile)));
  return { directory: `https://127.0.0.1:${acmePort}/dir`, apiCaFile, rootFile, dir, dnsManagement: `http://127.0.0.1:${dnsMgmt}` };
}

/** From now on the CA's DNS answers SERVFAIL for `host`: a user host that does not resolve. */
export async function failDns(pebble: Pebble, host: string): Promise<void> {
  const response = await fetch(`${pebble.dnsManagement}/set-servfail`, { method: 'POST', body: JSON.stringify({ host: `${host}.` }) });
  assert.equal(response.status, 200, await response.text());
}

function fetchText(url: string, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { agent: new Agent({ ca }) }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode} ${body}`))));
    }).on('error', reject);
  });
}

/** The serial of the certificate served for a name, checked by node against the given root. */
export async function servedSerial(port: number, servername: string, ca: Buffer): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port, servername, ca });
  await once(socket, 'secureConnect');
  const serial = socket.getPeerCertificate().serialNumber;
  socket.destroy();
  return serial;
}

/**
 * Waits until nginx serves `serial` for a name on `settled` fresh connections
 * in a row. `nginx -s reload` returns before the new workers answer, and for
 * a moment after the first new worker does, one of the generation before (or
 * of a reload just before it) may still take a connection: one answer is not
 * yet what every client gets.
 */
export async function nginxServes(port: number, servername: string, ca: Buffer, serial: string | undefined, settled = 5): Promise<void> {
  let streak = 0;
  await waitFor(async () => {
    const served = await servedSerial(port, servername, ca).catch(() => undefined);
    streak = served === serial ? streak + 1 : 0;
    return streak >= settled;
  }, { timeoutMs: 15_000, intervalMs: 50, what: `nginx to serve ${servername}'s certificate ${serial ?? ''} ${settled} times in a row` });
}

/** openssl s_client -verify_return_error: exits 0 only when the served chain verifies against the root. */
export async function opensslVerifies(port: number, servername: string, rootFile: string): Promise<string> {
  const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', servername, '-verify_return_error', '-CAfile', rootFile]);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  child.stdin?.end();
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 0, `openssl s_client for ${servername}:\n${out}`);
  return out;
}
