// The uploads of recent jobs, kept in this browser (IndexedDB) so a job reopened from History can
// still show its before/after comparison. Best effort: without IndexedDB nothing is kept.
const DB = 'pixtools';
const STORE = 'originals';
const KEEP = 10;

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export async function keepOriginal(jobId, file) {
  try {
    const db = await open();
    const store = db.transaction(STORE, 'readwrite').objectStore(STORE);
    await done(store.put({ file, at: Date.now() }, jobId));
    const keys = await done(store.getAllKeys());
    const entries = await done(store.getAll());
    const old = keys
      .map((key, i) => ({ key, at: entries[i]?.at ?? 0 }))
      .sort((a, b) => b.at - a.at)
      .slice(KEEP);
    for (const { key } of old) store.delete(key);
  } catch {
    // private mode or no IndexedDB: the comparison is simply not offered on reopen
  }
}

/** An object URL of the job's upload, or null. */
export async function originalUrl(jobId) {
  try {
    const db = await open();
    const entry = await done(db.transaction(STORE).objectStore(STORE).get(jobId));
    return entry?.file ? URL.createObjectURL(entry.file) : null;
  } catch {
    return null;
  }
}

export async function forgetOriginals() {
  try {
    const db = await open();
    await done(db.transaction(STORE, 'readwrite').objectStore(STORE).clear());
  } catch {
    // nothing kept
  }
}
