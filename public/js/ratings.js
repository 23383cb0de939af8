// The person's ratings: kept in localStorage, keyed by anime *id* (not index) so they survive a
// re-export, in rating order (a re-rated anime moves to the end, as gnn/inference.py does), so the
// model's history can keep the most recent ones.
//
// Nothing read from storage or from a file is trusted: an entry is used only if its id is a catalog
// id (a whole number, as the input contract has it) and its rating a number on the scale; others are
// skipped and counted, never fatal. An import is parsed and checked whole (js/listimport.js, no
// side effects) before anything is stored (merge).

const KEY = 'anime-gnn:ratings:v1';
const FORMAT = 'anime-gnn-ratings';
const ID = /^[0-9]{1,16}$/;

/** A catalog id as a string, or null: whole numbers only ("constructor", "__proto__", "1e3" are not ids). */
export function catalogId(value) {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? String(value) : null;
  return typeof value === 'string' && ID.test(value.trim()) ? value.trim() : null;
}

export class RatingStore {
  constructor(low, high, storage = globalThis.localStorage) {
    this.low = low;
    this.high = high;
    this.storage = storage;
    // What load() could not use: {skipped: entries, unreadable: the stored value was not a list}.
    this.loadReport = { skipped: 0, unreadable: false };
    this.items = this.load(); // [{id: string, rating: number, at: ISO string}]
  }

  load() {
    let raw;
    try {
      raw = JSON.parse(this.storage?.getItem(KEY) || '[]');
    } catch {
      raw = null;
    }
    if (!Array.isArray(raw)) {
      this.loadReport = { skipped: 0, unreadable: true }; // foreign data: start empty rather than break the page
      return [];
    }
    const { items, skipped } = this.clean(raw);
    this.loadReport = { skipped, unreadable: false };
    return items;
  }

  save() {
    try {
      this.storage?.setItem(KEY, JSON.stringify(this.items));
    } catch {
      // storage full or disabled (private mode): the ratings still work for this visit
    }
  }

  /** Valid entries of an imported or stored list; later duplicates win. */
  clean(list) {
    const byId = new Map();
    let skipped = 0;
    for (const raw of Array.isArray(list) ? list : []) {
      const [rawId, rating, at] = Array.isArray(raw)
        ? [raw[0], raw[1], undefined]
        : [raw?.anime_id ?? raw?.id, raw?.rating, raw?.rated_at ?? raw?.at];
      const id = catalogId(rawId);
      const r = typeof rating === 'number' || typeof rating === 'string' ? Number(rating) : NaN;
      if (id === null || !Number.isFinite(r) || r < this.low || r > this.high) {
        skipped += 1;
        continue;
      }
      byId.delete(id);
      byId.set(id, { id, rating: r, at: typeof at === 'string' && at.length <= 40 ? at : new Date(0).toISOString() });
    }
    return { items: [...byId.values()], skipped };
  }

  get(id) {
    return this.items.find((x) => x.id === String(id))?.rating ?? null;
  }

  set(id, rating) {
    this.items = this.items.filter((x) => x.id !== String(id));
    this.items.push({ id: String(id), rating: Number(rating), at: new Date().toISOString() });
    this.save();
  }

  remove(id) {
    this.items = this.items.filter((x) => x.id !== String(id));
    this.save();
  }

  clear() {
    this.items = [];
    this.save();
  }

  /** A JSON document a person can keep, and import again (here or in another browser). */
  toJson(titleOf, modelVersion) {
    return JSON.stringify({
      format: FORMAT,
      version: 1,
      exported_at: new Date().toISOString(),
      model_version: modelVersion,
      ratings: this.items.map((x) => ({ anime_id: x.id, rating: x.rating, title: titleOf(x.id), rated_at: x.at })),
    }, null, 2);
  }

  /** Store checked items ({id, rating}, oldest first); they replace existing ratings of the same anime. */
  merge(items) {
    const at = new Date().toISOString();
    const added = items.map((x) => ({ id: String(x.id), rating: Number(x.rating), at: x.at ?? at }));
    const imported = new Set(added.map((x) => x.id));
    this.items = [...this.items.filter((x) => !imported.has(x.id)), ...added];
    this.save();
  }
}

const LIST_KEY = 'anime-gnn:list:v1';
const STATUSES = new Set(['seen', 'planned']);

/**
 * Imported list entries without a rating, by catalog id: "seen" (watching, completed, on-hold or
 * dropped without a score: left out of recommendations, they start their franchise) and "planned"
 * (plan to watch: marked on the list, not a rating). Checked on load like the ratings.
 */
export class StatusStore {
  constructor(storage = globalThis.localStorage) {
    this.storage = storage;
    this.loadReport = { skipped: 0, unreadable: false };
    this.items = this.load(); // [{id: string, status: string}]
  }

  load() {
    let raw;
    try {
      raw = JSON.parse(this.storage?.getItem(LIST_KEY) || '[]');
    } catch {
      raw = null;
    }
    if (!Array.isArray(raw)) {
      this.loadReport = { skipped: 0, unreadable: true };
      return [];
    }
    const byId = new Map();
    for (const x of raw) {
      const id = catalogId(x?.id);
      if (id === null || !STATUSES.has(x?.status)) this.loadReport.skipped += 1;
      else byId.set(id, { id, status: x.status });
    }
    return [...byId.values()];
  }

  save() {
    try {
      this.storage?.setItem(LIST_KEY, JSON.stringify(this.items));
    } catch {
      // storage full or disabled: kept for this visit
    }
  }

  /** Replace the status of these [{id, status}] entries. */
  merge(entries) {
    const ids = new Set(entries.map((x) => String(x.id)));
    this.items = [...this.items.filter((x) => !ids.has(x.id)), ...entries.map((x) => ({ id: String(x.id), status: x.status }))];
    this.save();
  }

  remove(ids) {
    const drop = new Set([...ids].map(String));
    this.items = this.items.filter((x) => !drop.has(x.id));
    this.save();
  }

  clear() {
    this.items = [];
    this.save();
  }

  ids(status) {
    return this.items.filter((x) => x.status === status).map((x) => x.id);
  }
}
