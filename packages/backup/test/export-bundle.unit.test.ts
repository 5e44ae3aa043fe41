// The export file's own checks, on crafted files: what `ocm import` refuses
// before anything of the target root changes, and what it hands on to the
// backup verifier (the archive inside is checked entry by entry there).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import tar from 'tar-stream';
import { readBundle, verifyBackup, writeBundle, writeSidecar, EXPORT_META, EXPORT_PAYLOAD } from '../src/index.js';
import { craftArchive, tempDir, type CraftedEntry } from './helpers.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const PAYLOAD = Buffer.from('not really a gzip, the bundle does not care\n'.repeat(100));
const CAP = { maxPayloadBytes: 1 << 20 };

function meta(overrides: Record<string, unknown> = {}, body = PAYLOAD): Buffer {
  return Buffer.from(JSON.stringify({ format: 'ocm-export', version: 1, createdAt: '2026-12-06T00:00:00.000Z', user: { name: 'alice' }, payload: { sha256: sha(body), bytes: body.length }, ...overrides }));
}

/** A tar of the given raw entries, as someone who controls the file would write it. */
async function craftBundle(path: string, entries: CraftedEntry[]): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(path));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (e.body) pack.entry(e.header, e.body, cb);
      else pack.entry(e.header, cb).end(undefined);
    });
  }
  pack.finalize();
  await done;
}

const metaEntry = (body = meta()): CraftedEntry => ({ header: { name: EXPORT_META, type: 'file' }, body });
const payloadEntry = (body = PAYLOAD, name = EXPORT_PAYLOAD): CraftedEntry => ({ header: { name, type: 'file' }, body });

test('a bundle written by writeBundle reads back: description, payload bytes, 0600', async (t) => {
  const dir = await tempDir(t, 'bundle');
  await writeFile(join(dir, 'payload'), PAYLOAD);
  const file = join(dir, 'alice.ocm-export.tar');
  const out = createWriteStream(file);
  await writeBundle(out, { createdAt: '2026-12-06T00:00:00.000Z', user: { name: 'alice', envKeys: ['OPENAI_API_KEY'] } }, join(dir, 'payload'), sha(PAYLOAD));
  const dest = join(dir, 'read');
  const m = await readBundle(file, dest, CAP);
  assert.deepEqual(m.user, { name: 'alice', envKeys: ['OPENAI_API_KEY'] });
  assert.equal(m.payload.sha256, sha(PAYLOAD));
  assert.deepEqual(await readFile(dest), PAYLOAD);
  assert.equal((await stat(dest)).mode & 0o777, 0o600);
});

const refused: Array<[string, CraftedEntry[], RegExp, string?]> = [
  ['a payload that does not match its checksum', [metaEntry(meta({ payload: { sha256: sha(Buffer.from('other')), bytes: PAYLOAD.length } })), payloadEntry()], /does not match its checksum/],
  ['another format version', [metaEntry(meta({ version: 2 })), payloadEntry()], /export format version 2 is not the one this ocm reads \(1\)/],
  ['a description of something else', [metaEntry(meta({ format: 'tarball' })), payloadEntry()], /does not describe an ocm export/],
  ['a description that is not JSON', [metaEntry(Buffer.from('{nope')), payloadEntry()], /is not JSON/],
  ['a payload first', [payloadEntry(), metaEntry()], /starts with "state.tar.gz" instead of ocm-export.json/],
  ['a ../ name for the payload', [metaEntry(), payloadEntry(PAYLOAD, '../state.tar.gz')], /holds "..\/state.tar.gz" where state.tar.gz belongs/],
  ['an absolute name', [{ header: { name: '/etc/ocm-export.json', type: 'file' }, body: meta() }], /starts with "\/etc\/ocm-export.json"/],
  ['a symlink for the payload', [metaEntry(), { header: { name: EXPORT_PAYLOAD, type: 'symlink', linkname: '/etc/shadow' } }], /of type symlink/],
  ['a hard link for the payload', [metaEntry(), { header: { name: EXPORT_PAYLOAD, type: 'link', linkname: '/etc/shadow' } }], /of type link/],
  ['a device', [metaEntry(), { header: { name: EXPORT_PAYLOAD, type: 'character-device', devmajor: 1, devminor: 3 } }], /of type character-device/],
  ['a third member', [metaEntry(), payloadEntry(), { header: { name: 'extra', type: 'file' }, body: Buffer.from('x') }], /holds "extra" after the payload/],
  ['no payload', [metaEntry()], /holds no state.tar.gz/],
  ['a payload of another size than described', [metaEntry(meta({ payload: { sha256: sha(PAYLOAD), bytes: 5 } })), payloadEntry()], /is \d+ bytes, but 5 are described/],
  ['an oversized description', [metaEntry(Buffer.alloc(70_000, 0x20)), payloadEntry()], /implausibly large/],
];

for (const [label, entries, message] of refused) {
  test(`refused: ${label}`, async (t) => {
    const dir = await tempDir(t, 'bundle-bad');
    const file = join(dir, 'x.tar');
    await craftBundle(file, entries);
    await assert.rejects(readBundle(file, join(dir, 'payload'), CAP), (e: Error & { code?: string }) => e.code === 'OCM_E_IMPORT_INVALID' && message.test(e.message) && e.message.startsWith(file));
  });
}

test('refused: a truncated file', async (t) => {
  const dir = await tempDir(t, 'bundle-cut');
  const file = join(dir, 'x.tar');
  await craftBundle(file, [metaEntry(), payloadEntry()]);
  await truncate(file, 1024 + 512 + 700);
  await assert.rejects(readBundle(file, join(dir, 'payload'), CAP), (e: Error & { code?: string }) => e.code === 'OCM_E_IMPORT_INVALID' && /truncated|holds no/.test(e.message));
});

test('refused before a byte is copied: a payload above the cap', async (t) => {
  const dir = await tempDir(t, 'bundle-cap');
  const file = join(dir, 'x.tar');
  await craftBundle(file, [metaEntry(), payloadEntry()]);
  await assert.rejects(readBundle(file, join(dir, 'payload'), { maxPayloadBytes: 100 }), (e: Error & { code?: string }) => e.code === 'OCM_E_BACKUP_LIMIT');
  await assert.rejects(stat(join(dir, 'payload')), 'no payload copy made');
});

test('a hostile archive inside a well-formed bundle reaches the backup verifier, which refuses it', async (t) => {
  const dir = await tempDir(t, 'bundle-inner');
  const inner = join(dir, 'mallory-20260101T000000Z.tar.gz');
  await craftArchive(inner, [{ header: { name: 'state', type: 'directory' } }, { header: { name: 'state/../../evil', type: 'file' }, body: Buffer.from('x') }], { sidecar: false });
  const body = await readFile(inner);
  const file = join(dir, 'x.tar');
  await craftBundle(file, [metaEntry(meta({}, body)), payloadEntry(body)]);
  const copy = join(dir, 'import-20260101T000000Z-manual.tar.gz');
  const m = await readBundle(file, copy, CAP);
  await writeSidecar(copy, m.payload.sha256);
  await assert.rejects(verifyBackup(copy), (e: Error & { code?: string }) => e.code === 'OCM_E_BACKUP_UNSAFE' && e.message.includes('state/../../evil'));
});

test('from a stream (ocm import -): the same bundle reads back, named as given', async (t) => {
  const dir = await tempDir(t, 'bundle-stream');
  const file = join(dir, 'x.tar');
  await craftBundle(file, [metaEntry(), payloadEntry()]);
  const dest = join(dir, 'payload');
  const m = await readBundle('stdin', dest, { ...CAP, input: createReadStream(file) });
  assert.equal(m.payload.sha256, sha(PAYLOAD));
  assert.deepEqual(await readFile(dest), PAYLOAD);
  await assert.rejects(readBundle('stdin', join(dir, 'again'), { ...CAP, input: Readable.from([Buffer.from('hello\n')]) }),
    (e: Error & { code?: string }) => e.code === 'OCM_E_IMPORT_INVALID' && e.message.startsWith('stdin: '));
});

test('a stream that runs on past any bundle within the caps is cut off, with the payload cap as the reason', async () => {
  let sent = 0;
  // Valid-looking tar blocks without end: only the byte cap can stop the read.
  const endless = new Readable({
    read() {
      sent += 64 << 10;
      this.push(Buffer.alloc(64 << 10));
    },
  });
  const cap = 256 << 10;
  await assert.rejects(readBundle('stdin', '/nonexistent/never-written', { maxPayloadBytes: cap, input: endless }),
    (e: Error & { code?: string }) => e.code === 'OCM_E_BACKUP_LIMIT' && /^stdin: more than \d+ bytes/.test(e.message));
  assert.ok(sent < cap + (4 << 20), `stopped after ${sent} bytes`);
});
