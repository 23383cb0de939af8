// The person's ratings: kept in localStorage, keyed by anime *id* (not index) so they survive a
// re-export, in rating order (a re-rated anime moves to the end, as gnn/inference.py does), so the
// model's history can keep the most recent ones.

const KEY = 'anime-gnn:ratings:v1';
const FORMAT = 'anime-gnn-ratings';

export class RatingStore {
  constructor(low, high, storage = globalThis.localStorage) {
    this.low = low;
    this.high = high;
    this.storage = storage;
    this.items = this.load(); // [{id: string, rating: number, at: ISO string}]
  }

  load() {
    try {
      return this.clean(JSON.parse(this.storage?.getItem(KEY) || '[]')).items;
    } catch {
      return []; // unreadable or foreign data: start empty rather than break the page
    }
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
      const [id, rating, at] = Array.isArray(raw)
        ? [raw[0], raw[1], undefined]
        : [raw?.anime_id ?? raw?.id, raw?.rating, raw?.rated_at ?? raw?.at];
      const r = Number(rating);
      if ((typeof id !== 'string' && typeof id !== 'number') || String(id) === ''
          || !Number.isFinite(r) || r < this.low || r > this.high) {
        skipped += 1;
        continue;
      }
      byId.delete(String(id));
      byId.set(String(id), { id: String(id), rating: r, at: typeof at === 'string' ? at : new Date(0).toISOString() });
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
   * Merge an exported file (or a bare list of {anime_id, rating} / [id, rating]); imported ratings
   * replace existing ones of the same anime. Returns {added, skipped}.
   */
  importJson(text) {
    let doc;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new Error(`not a JSON file (${err.message})`);
    }
    const list = Array.isArray(doc) ? doc : doc?.ratings;
    if (!Array.isArray(list)) throw new Error('expected a ratings export (a JSON object with a "ratings" list)');
    const { items, skipped } = this.clean(list);
    const imported = new Set(items.map((x) => x.id));
    this.items = [...this.items.filter((x) => !imported.has(x.id)), ...items];
    this.save();
    return { added: items.length, skipped };
  }
}
