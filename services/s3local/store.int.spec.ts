import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ObjectStore } from './store.ts';

// The embedded S3's object store on a real folder: whatever the order overlapping requests finish in,
// the index, the metadata on disk and the body files agree (a reopened store sees what was served).
const chunks = async function* (bytes: Buffer) {
  yield bytes;
};
const options = { contentType: 'image/webp', maxBytes: 1 << 24 };

describe('embedded S3 object store', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 's3local-store-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('agrees with the disk when writes and deletes of the same keys overlap', async () => {
    const store = await ObjectStore.open(dir);
    await store.createBucket('b');
    const keys = Array.from({ length: 20 }, (_, i) => `k/${i}`);
    await Promise.all(
      keys.flatMap((key, i) => [
        store.put('b', key, chunks(Buffer.alloc(100_000 + i, 7)), options),
        store.delete('b', key),
        store.put('b', key, chunks(Buffer.alloc(90_000 + i, 8)), options),
      ]),
    );
    const reopened = await ObjectStore.open(dir);
    for (const key of keys) assert.deepEqual(reopened.head('b', key), store.head('b', key), key);
    const present = keys.filter((key) => store.head('b', key) !== undefined).length;
    assert.equal(
      readdirSync(path.join(dir, 'b', 'objects')).length,
      2 * present,
      'a body and a metadata file each',
    );
  });

  it('keeps the last of several concurrent writes of one key, on disk as in the index', async () => {
    const store = await ObjectStore.open(dir);
    await store.createBucket('c');
    const writes = Array.from({ length: 10 }, (_, i) =>
      store.put('c', 'same', chunks(Buffer.alloc(50_000 + i, i)), options),
    );
    const metas = await Promise.all(writes);
    const kept = store.head('c', 'same');
    assert.ok(
      metas.some((meta) => meta.file === kept?.file),
      'one of the writes, whole, is the object',
    );
    const reopened = await ObjectStore.open(dir);
    assert.deepEqual(reopened.head('c', 'same'), store.head('c', 'same'));
    assert.equal(readdirSync(path.join(dir, 'c', 'objects')).length, 2, 'one body and one metadata file');
  });
  it('lists a prefix page by page in key order, as a filter-and-sort of every key would', async () => {
    const store = await ObjectStore.open(dir);
    await store.createBucket('l');
    // Keys around the prefix's edges: the prefix itself, its neighbours in code-unit order, deeper paths.
    const keys = ['a', 'a/', 'a/b', 'a/b/c', 'a0', 'a.', '`', 'b', 'a/é', 'a/z', 'a//', 'a/0', 'aa/x'];
    for (const key of keys) await store.put('l', key, chunks(Buffer.from(key)), options);
    const naive = (prefix: string, after: string) =>
      keys
        .filter((key) => key.startsWith(prefix) && key > after)
        .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    for (const prefix of ['', 'a', 'a/', 'a/b', 'zz']) {
      for (const max of [1, 2, 1000]) {
        const seen: string[] = [];
        let after = '';
        for (;;) {
          const page = store.list('l', prefix, after, max);
          assert.ok(page.items.length <= max);
          seen.push(...page.items.map((meta) => meta.key));
          assert.equal(page.truncated, seen.length < naive(prefix, '').length, `${prefix} ${max}`);
          if (!page.truncated) break;
          after = page.items.at(-1)?.key ?? '';
        }
        assert.deepEqual(seen, naive(prefix, ''), `prefix "${prefix}", pages of ${max}`);
      }
      assert.deepEqual(
        store.list('l', prefix, 'a/a', 1000).items.map((meta) => meta.key),
        naive(prefix, 'a/a'),
        `prefix "${prefix}" after "a/a"`,
      );
    }
    assert.deepEqual(store.list('l', 'a/', '', 0), { items: [], truncated: true });
  });
});
