// The recommendation list, as gnn/inference.py's recommend() builds it: filters and exclusion
// decide what may be shown, the order score ranks, gnn/franchise.py's policy (franchise.js)
// makes one card per franchise, reasons come from reasons.js or the franchise.

import { cardReason, franchiseList } from './franchise.js';
import { ReasonBuilder } from './reasons.js';

/** gnn.inference.Filters: a format set, an inclusive year range; an unknown year fails a year bound. */
export function passes(entry, f) {
  if (!entry) return false;
  if (f.formats && !f.formats.has(String(entry.format || '').toUpperCase())) return false;
  const y = Number.isInteger(entry.year) ? entry.year : null;
  if (f.yearMin !== null && (y === null || y < f.yearMin)) return false;
  if (f.yearMax !== null && (y === null || y > f.yearMax)) return false;
  return true;
}

/**
 * The top k cards [{anime, kind, others, size, reason}].
 * rated: Map anime index -> rating (null = on the person's list without a score), excluded and
 * counting as "started"; filters as passes(); orderScore ranks (the predicted rating when the
 * export has no ranking output).
 */
export function buildList({ model, franchises, orderScore, rated, filters, k, keep = () => true }) {
  const display = model.display;
  const allowed = new Array(model.nAnime).fill(false);
  for (let a = 1; a < model.nAnime; a += 1) {
    allowed[a] = !rated.has(a) && passes(display[a], filters) && keep(a);
  }
  const scored = new Map([...rated].filter(([, r]) => r !== null));
  const reasons = new ReasonBuilder(display, scored, model.low, model.high);
  const title = (i) => reasons.title(i);
  return franchiseList(orderScore, rated, franchises, allowed, k)
    .map((card) => ({ ...card, reason: cardReason(card, franchises, title, rated, reasons.reason(card.anime)) }));
}
