// Anime cards: a recommendation (predicted rating, reason, its franchise's other entries folded
// under it, a plan-to-watch mark) or a "more like this" neighbour (similarity).

import { cover, el, facts, subtitle } from './ui.js';

/** "N more in this series": the franchise's other listed anime, expandable under the card. */
function others(group, scores, planned, entryOf) {
  if (!group.others.length) return null;
  return el('details', { class: 'others' },
    el('summary', { text: `${group.others.length} more in this series` }),
    el('ul', {}, ...group.others.map((a) => {
      const e = entryOf(a);
      return el('li', { 'data-index': a, 'data-anime-id': e.id, 'data-score': String(scores[a]) },
        el('span', { class: 'other-title', text: planned?.has(a) ? `${e.title} (plan to watch)` : e.title }),
        el('span', { class: 'muted small', text: [facts(e), `★ ${scores[a].toFixed(1)}`].filter(Boolean).join(' · ') }));
    })));
}

/**
 * entry: the anime's display entry; score (predicted rating) or similarity; group: the card from
 * js/franchise.js (kind, others); scores: every anime's predicted rating; planned: a Set of indices;
 * actions: controls for the card's foot; entryOf(index): display entries of other anime.
 */
export function card(e, index, { score, reason, similarity, group, scores, planned, low, high, actions, entryOf }) {
  const badge = score !== undefined
    ? el('span', { class: 'score', title: `predicted rating on the ${low}–${high} scale`, text: score.toFixed(1) })
    : el('span', { class: 'score sim', title: 'cosine similarity of the model’s anime embeddings', text: similarity.toFixed(2) });
  return el('li', {
    class: 'card', 'data-index': index, 'data-anime-id': e.id, 'data-kind': group?.kind,
    'data-score': score !== undefined ? String(score) : undefined,
    'data-similarity': similarity !== undefined ? String(similarity) : undefined,
    'data-planned': planned?.has(index) ? 'true' : undefined,
  },
  el('div', { class: 'cover-wrap' }, cover(e), badge),
  el('div', { class: 'card-body' },
    el('h3', { class: 'card-title', text: e.title, title: e.title }),
    subtitle(e) ? el('p', { class: 'muted small alt', text: subtitle(e) }) : null,
    el('p', { class: 'muted small', text: facts(e) }),
    reason ? el('p', { class: 'reason', text: reason }) : null,
    planned?.has(index) ? el('p', { class: 'planned', text: 'On your plan-to-watch list' }) : null,
    group ? others(group, scores, planned, entryOf) : null,
    el('div', { class: 'actions' }, ...actions)));
}
