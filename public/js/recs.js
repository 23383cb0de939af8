// The recommendation list, as gnn/inference.py's recommend() builds it: filters and exclusion
// decide what may be shown, the order score ranks, gnn/franchise.py's policy (franchise.js)
// makes one card per franchise, reasons come from reasons.js or the franchise.

import { continueList, franchiseList, nextCandidates } from './franchise.js';
import { cardReason, ReasonBuilder } from './reasons.js';

/** gnn.filters.ADULT_GENRES: genres that mark a title as adult (18+). */
export const ADULT_GENRES = new Set(['Hentai', 'Erotica']);

export const isAdult = (entry) => Array.isArray(entry?.genres) && entry.genres.some((g) => ADULT_GENRES.has(g));

/**
 * gnn.filters.Filters: a format set, a status set, an inclusive year range; an unknown status or
 * year fails a status or year filter; adult titles only with f.adult.
 */
export function passes(entry, f) {
  if (!entry) return false;
  if (!f.adult && isAdult(entry)) return false;
  if (f.formats && !f.formats.has(String(entry.format || '').toUpperCase())) return false;
  if (f.statuses && !f.statuses.has(String(entry.status || '').toUpperCase())) return false;
  const y = Number.isInteger(entry.year) ? entry.year : null;
  if (f.yearMin !== null && (y === null || y < f.yearMin)) return false;
  if (f.yearMax !== null && (y === null || y > f.yearMax)) return false;
  return true;
}

/**
 * gnn.discover.log_ratings: log(1 + training ratings) per anime index (0 for the padding entry), or null
 * when an entry does not say (an export written before the counts were exported).
 */
export function logRatings(display) {
  const out = new Float32Array(display.length);
  for (let a = 1; a < display.length; a += 1) {
    const n = display[a]?.ratings;
    if (typeof n !== 'number') return null;
    out[a] = Math.log1p(n);
  }
  return out;
}

/**
 * gnn.discover.discounted: the order score less weight x log(1 + training ratings) ("discover"; -Infinity,
 * not scored, stays so); weight 0 or no counts: the order itself.
 */
export function discounted(order, logN, weight) {
  if (!(weight > 0) || logN === null) return order;
  const w = Math.fround(weight);
  return order.map((s, a) => Math.fround(s - Math.fround(w * logN[a])));
}

/**
 * The top k cards [{anime, kind, others, size, reason}].
 * rated: Map anime index -> rating (null = on the person's list without a score), excluded and
 * counting as "started"; filters as passes(); orderScore ranks (the predicted rating when the
 * export has no ranking output).
 */
/** What may be listed: [allowed flags per anime index, the allowed indices] (not rated, passes the filters). */
export function allowedAnime({ model, rated, filters, keep = () => true }) {
  const allowed = new Array(model.nAnime).fill(false);
  const indices = [];
  for (let a = 1; a < model.nAnime; a += 1) {
    allowed[a] = !rated.has(a) && passes(model.display[a], filters) && keep(a);
    if (allowed[a]) indices.push(a);
  }
  return [allowed, indices];
}

export function buildList({ model, franchises, orderScore, rated, filters, k, keep = () => true }) {
  const display = model.display;
  const [allowed] = allowedAnime({ model, rated, filters, keep });
  const scored = new Map([...rated].filter(([, r]) => r !== null));
  const reasons = new ReasonBuilder(display, scored, model.low, model.high);
  const title = (i) => reasons.title(i);
  return franchiseList(orderScore, rated, franchises, allowed, k)
    .map((card) => ({
      ...card,
      reason: cardReason(card, franchises, title, rated, reasons.reason(card.anime), reasons.relation(card.anime),
        reasons.personal(card.anime)),
    }));
}

/**
 * "Continue your series" (gnn.inference.continue_series): the next entry of each franchise the person
 * started, the k best by predicted rating, with their reasons; anime in `skip` (the main list's
 * cards) are left out afterwards. rating: the predicted ratings by anime index, filled in place for the
 * next entries the model had not rated.
 */
export async function buildContinue({ model, franchises, rating, pairs, rated, filters, k, skip = new Set() }) {
  const [allowed] = allowedAnime({ model, rated, filters });
  await model.rateMissing(pairs, rating, nextCandidates(rated, franchises, allowed));
  const scored = new Map([...rated].filter(([, r]) => r !== null));
  const reasons = new ReasonBuilder(model.display, scored, model.low, model.high);
  return continueList(rating, rated, franchises, allowed, Infinity).filter((c) => !skip.has(c.anime)).slice(0, k)
    .map((card) => ({ ...card, reason: cardReason(card, franchises, (i) => reasons.title(i), rated, '') }));
}

/** "Today" for the "new" row: ?today=YYYY-MM-DD (tests, demos of an older catalog), else the clock. */
export function today(search = globalThis.location?.search ?? '') {
  const asked = new URLSearchParams(search).get('today');
  const day = asked ? new Date(`${asked}T00:00:00Z`) : new Date();
  return Number.isNaN(day.getTime()) ? new Date() : day;
}

/** The catalog's latest year up to today's, if that is this year or last; null: no recent anime. */
export function recentYear(display, day) {
  const year = day.getUTCFullYear();
  let best = null;
  for (const e of display) {
    if (e && Number.isInteger(e.year) && e.year <= year && (best === null || e.year > best)) best = e.year;
  }
  return best !== null && best >= year - 1 ? best : null;
}
