// The person's ratings: kept in localStorage, keyed by anime *id* (not index) so they survive a
// re-export, in rating order (a re-rated anime moves to the end, as gnn/inference.py does), so the
// model's history can keep the most recent ones.
//
// Nothing read from storage or from a file is trusted: an entry is used only if its id is a catalog
// id (a whole number, as the input contract has it) and its rating a number on the scale; others are
// skipped and counted, never fatal. An import is parsed and checked whole (parseImport, no side
// effects) before anything is stored (merge).

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

  /**
   * Read an exported file (or a bare list of {anime_id, rating} / [id, rating]) without storing
   * anything: {items, skipped}; throws if the document as a whole is not such a list.
   */
  parseImport(text) {
    let doc;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new Error(`not a JSON file (${err.message})`);
    }
    const list = Array.isArray(doc) ? doc : doc?.ratings;
    if (!Array.isArray(list)) throw new Error('expected a ratings export (a JSON object with a "ratings" list)');
    return this.clean(list);
  }

  /** Store checked items (from parseImport); they replace existing ratings of the same anime. */
  merge(items) {
    const imported = new Set(items.map((x) => x.id));
    this.items = [...this.items.filter((x) => !imported.has(x.id)), ...items];
    this.save();
  }
}
