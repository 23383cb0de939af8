// One short "why" per recommendation: a line-by-line port of gnn/reasons.py (keep them in step;
// tests/web/test_e2e.py compares the page's reasons with the Python ones).
//
// First match wins: franchise relation to a liked anime, then a shared animation studio (the display
// entry's `studios`; its `producers` are never called "studio"), then a liked anime it is often watched
// with (the display entry's `corated` lists, either direction, nearest the top first), then a liked
// genre ("Drama, like Z (you rated 9) and 3 more you liked"). "Liked" = at least two thirds of the way up the rating scale (7 on 1-10).
// cardReason: a series-aware card's franchise reason (an entry point linked to a liked anime of another
// franchise: that link; else one naming a liked anime, "; start of its series"), else the one above
// (tests/web/test_franchise_js.py).

const PHRASE = {
  PREQUEL: 'sequel of', SEQUEL: 'prequel of', PARENT: 'side story of',
  SIDE_STORY: 'main story of', SPIN_OFF: 'original of the spin-off', ALTERNATIVE: 'alternative version of',
  SUMMARY: 'full story of the summary', CHARACTER: 'shares characters with', OTHER: 'related to',
};
const PRIORITY = { PREQUEL: 0, SEQUEL: 1, PARENT: 2, SIDE_STORY: 2 };
// How a franchise card's anime relates to the rated anime before it (the type stated on either side).
const CARD_PHRASE = { PREQUEL: 'sequel of', PARENT: 'side story of', SEQUEL: 'sequel of', SIDE_STORY: 'side story of' };

// Python's f"{r:g}" for whole numbers, f"{r:.1f}" otherwise. The only exact decimal ties a
// double can hold at one decimal are x.25 and x.75; Python rounds them half to even, toFixed up,
// which differs for x.25 only.
export function fmtRating(r) {
  if (Number.isInteger(r)) return String(r);
  if (r > 0 && Number.isInteger(r * 4) && (r * 4) % 4 === 1) return (r - 0.05).toFixed(1);
  return r.toFixed(1);
}

// Python's tuple ordering on (number, ..., string) keys.
function cmp(a, b) {
  for (let i = 0; i < a.length; i += 1) {
    if (a[i] < b[i]) return -1;
    if (a[i] > b[i]) return 1;
  }
  return 0;
}

export class ReasonBuilder {
  /** rated: Map anime index -> rating, in rating order (oldest first, as the history is built). */
  constructor(display, rated, low, high) {
    this.display = display;
    this.threshold = low + (high - low) * 2 / 3;
    this.liked = new Map([...rated].filter(([a, r]) => r >= this.threshold && a > 0 && a < display.length));
    // Studio/genre -> [rating, anime] of the best-rated liked anime with it (lowest index wins ties,
    // as Python walks sorted(liked)); genre -> how many liked anime have it.
    this.studioBest = new Map();
    this.genreBest = new Map();
    this.genreCount = new Map();
    // Candidate -> [place in a liked anime's co-rated list, -rating, that anime], the smallest kept.
    this.listedBy = new Map();
    for (const [a, r] of [...this.liked].sort((x, y) => x[0] - y[0])) {
      const entry = display[a] || {};
      for (const [best, field] of [[this.studioBest, 'studios'], [this.genreBest, 'genres']]) {
        for (const key of entry[field] || []) {
          if (!best.has(key) || r > best.get(key)[0]) best.set(key, [r, a]);
        }
      }
      for (const g of entry.genres || []) this.genreCount.set(g, (this.genreCount.get(g) || 0) + 1);
      (entry.corated || []).forEach((c, place) => {
        const key = [place, -r, a];
        if (c !== a && (!this.listedBy.has(c) || cmp(key, this.listedBy.get(c)) < 0)) this.listedBy.set(c, key);
      });
    }
  }

  title(index) {
    const entry = this.display[index] || {};
    return String(entry.title || `anime ${entry.id ?? index}`);
  }

  /** The franchise reason (the first rule), or null when the candidate has no relation to a liked anime. */
  relation(candidate) {
    const entry = this.display[candidate] || {};
    const related = (entry.relations || [])
      .filter(([j]) => this.liked.has(j))
      .map(([j, t]) => [PRIORITY[t] ?? 3, -this.liked.get(j), j, t]);
    if (!related.length) return null;
    const [, neg, j, t] = related.reduce((m, x) => (cmp(x, m) < 0 ? x : m));
    return `${PHRASE[t] ?? 'related to'} ${this.title(j)}, which you rated ${fmtRating(-neg)}`;
  }

  reason(candidate) {
    const related = this.relation(candidate);
    if (related !== null) return related;
    const personal = this.personal(candidate);
    if (personal !== null) return personal;
    const genres = (this.display[candidate] || {}).genres || [];
    return genres.length ? `popular with fans of ${genres[0]}` : 'predicted from your ratings';
  }

  /** Rules 2-4 with a liked anime to name (studio, watched together, liked genre); null without one. */
  personal(candidate) {
    const entry = this.display[candidate] || {};
    const shared = (entry.studios || [])
      .filter((s) => this.studioBest.has(s) && this.studioBest.get(s)[1] !== candidate)
      .map((s) => [this.studioBest.get(s), s]);
    if (shared.length) {
      // Python's max() keeps the first of equal maxima.
      const [[r, a], studio] = shared.reduce((m, x) => (x[0][0] > m[0][0] ? x : m));
      return `same studio (${studio}) as ${this.title(a)} (you rated ${fmtRating(r)})`;
    }
    const together = (entry.corated || [])
      .map((j, place) => [place, -this.liked.get(j), j])
      .filter(([, , j]) => this.liked.has(j) && j !== candidate);
    if (this.listedBy.has(candidate)) together.push(this.listedBy.get(candidate));
    if (together.length) {
      const [, neg, j] = together.reduce((m, x) => (cmp(x, m) < 0 ? x : m));
      return `often watched with ${this.title(j)} (you rated ${fmtRating(-neg)})`;
    }
    const genres = entry.genres || [];
    const itself = this.liked.has(candidate) ? 1 : 0; // a liked candidate is in its own genres' counts
    const liked = genres
      .filter((g) => this.genreCount.get(g) && this.genreBest.get(g)[1] !== candidate)
      .map((g) => [this.genreCount.get(g) - itself, g]);
    if (liked.length) {
      const [n, g] = liked.reduce((m, x) => (cmp(x, m) > 0 ? x : m));
      const [r, a] = this.genreBest.get(g);
      const more = n > 1 ? ` and ${n - 1} more you liked` : '';
      return `${g}, like ${this.title(a)} (you rated ${fmtRating(r)})${more}`;
    }
    return null;
  }
}

/**
 * gnn.reasons.card_reason: a franchise reason for "entry" / "next" / "candidate" cards, else base; an
 * entry card linked to a liked anime of another franchise says that link (related: ReasonBuilder.relation),
 * else the reason naming a liked anime (personal: ReasonBuilder.personal) and that it starts a series.
 */
export function cardReason(card, fr, title, rated, base, related = null, personal = null) {
  const said = (a) => {
    const r = rated.get(a);
    return r !== null && r !== undefined ? `which you rated ${fmtRating(r)}` : 'which is on your list';
  };
  if (card.kind === 'next' && card.via !== null) {
    const phrase = CARD_PHRASE[fr.viaType.get(`${card.anime},${card.via}`)] ?? 'next after';
    return `${phrase} ${title(card.via)}, ${said(card.via)}`;
  }
  const started = card.kind === 'candidate'
    ? (fr.members.get(fr.franchise[card.anime]) || []).filter((m) => rated.has(m)) : [];
  if (started.length) {
    const furthest = fr.furthest(started);
    return `in the series of ${title(furthest)}, ${said(furthest)}`;
  }
  if (card.kind === 'entry') {
    if (related || personal) return related || `${personal}; start of its series (${card.size} entries)`;
    return `start of ${series(title(card.anime))} (${card.size} entries)`;
  }
  if (card.kind === 'candidate' && card.size > 1) { // a franchise not started whose entry point a filter left out
    const entry = fr.entry.get(fr.franchise[card.anime]);
    return `in ${series(title(entry))} (${card.size} entries), which you have not started`;
  }
  return base;
}

function series(name) {
  return `${name.toLowerCase().startsWith('the ') ? '' : 'the '}${name} series`; // not "the The Hollow Blade series"
}
