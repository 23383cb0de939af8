// Forgiving title search over romaji, English and native titles.
//
// Titles and queries are folded the same way: Unicode compatibility decomposition (full-width
// letters become ASCII, half-width kana full-width), accents and other combining marks removed
// (so "Pokemon" finds "Pokémon"), lower case, and every run of punctuation/space turned into one
// space (so "re zero" finds "Re:Zero"). Matches are ranked: whole title, title prefix, word
// prefix, substring, substring ignoring spaces, all words anywhere; then by popularity.

export function fold(text) {
  return String(text ?? '')
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function matchRank(key, compactKey, q, compactQ, words) {
  if (key === q) return 0;
  if (key.startsWith(q)) return 1;
  if (key.includes(` ${q}`)) return 2;
  if (key.includes(q)) return 3;
  if (compactKey.includes(compactQ)) return 4;
  if (words.length > 1 && words.every((w) => key.includes(w))) return 5;
  return Infinity;
}

export class TitleIndex {
  /** display: the export's anime_display.json (entry 0 is the padding anime, null). */
  constructor(display) {
    this.entries = [];
    display.forEach((entry, index) => {
      if (!entry) return;
      const titles = [entry.title, entry.title_romaji, entry.title_english, entry.title_native];
      const keys = [...new Set(titles.map(fold).filter(Boolean))];
      this.entries.push({ index, keys, compact: keys.map((k) => k.replace(/ /g, '')), popularity: entry.popularity || 0 });
    });
  }

  /** Up to `limit` anime indices for `query`, best match first. */
  search(query, limit = 12) {
    const q = fold(query);
    if (!q) return [];
    const compactQ = q.replace(/ /g, '');
    const words = q.split(' ');
    const hits = [];
    for (const e of this.entries) {
      let best = Infinity;
      e.keys.forEach((key, i) => { best = Math.min(best, matchRank(key, e.compact[i], q, compactQ, words)); });
      if (best !== Infinity) hits.push({ index: e.index, rank: best, popularity: e.popularity });
    }
    hits.sort((a, b) => (a.rank - b.rank) || (b.popularity - a.popularity) || (a.index - b.index));
    return hits.slice(0, limit).map((h) => h.index);
  }
}
