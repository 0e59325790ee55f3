/**
 * Training checkpoints kept in the browser's IndexedDB, so a run survives a reload. Two object stores: the
 * bytes, and a small summary per key that the page can list without loading megabytes. IndexedDB exists in
 * pages and in Web Workers alike (the training worker saves; the page offers to resume).
 */

export interface CheckpointSummary {
  key: string;
  phase: "teacher" | "student";
  iteration: number;
  /** steps planned for the phase */
  steps: number;
  /** one line for the page, e.g. "sCT, small UNet, classes cat" */
  label: string;
  bytes: number;
  savedAt: number;
}

const DATABASE = "scm-lab";
const VERSION = 1;
const BYTES = "checkpoints";
const SUMMARIES = "summaries";

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error("IndexedDB request failed"));
  });
}

function factory(): IDBFactory {
  const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!idb) throw new Error("this browser offers no IndexedDB (private mode?), so runs cannot be saved for a reload");
  return idb;
}

async function open(): Promise<IDBDatabase> {
  const r = factory().open(DATABASE, VERSION);
  r.onupgradeneeded = () => {
    for (const store of [BYTES, SUMMARIES]) if (!r.result.objectStoreNames.contains(store)) r.result.createObjectStore(store);
  };
  return request(r);
}

async function transaction<T>(mode: IDBTransactionMode, work: (stores: { bytes: IDBObjectStore; summaries: IDBObjectStore }) => Promise<T>): Promise<T> {
  const db = await open();
  try {
    const tx = db.transaction([BYTES, SUMMARIES], mode);
    const done = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction failed (is the disk full?)"));
    });
    const result = await work({ bytes: tx.objectStore(BYTES), summaries: tx.objectStore(SUMMARIES) });
    await done;
    return result;
  } finally {
    db.close();
  }
}

/** Store (or replace) a checkpoint; bytes and summary are written in one transaction, so they never disagree. */
export function saveCheckpoint(summary: CheckpointSummary, bytes: Uint8Array): Promise<void> {
  return transaction("readwrite", async ({ bytes: b, summaries: s }) => {
    b.put(bytes, summary.key);
    s.put(summary, summary.key);
  });
}

export function loadCheckpoint(key: string): Promise<Uint8Array | null> {
  return transaction("readonly", async ({ bytes }) => ((await request(bytes.get(key))) as Uint8Array | undefined) ?? null);
}

export function checkpointSummary(key: string): Promise<CheckpointSummary | null> {
  return transaction("readonly", async ({ summaries }) => ((await request(summaries.get(key))) as CheckpointSummary | undefined) ?? null);
}

export function deleteCheckpoint(key: string): Promise<void> {
  return transaction("readwrite", async ({ bytes, summaries }) => {
    bytes.delete(key);
    summaries.delete(key);
  });
}
