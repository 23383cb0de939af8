// The person's list in and out. Export: the ratings as this page's JSON file (a download).
// Import a MyAnimeList / AniList export or this page's own ratings file into the page's stores:
// read and checked whole first (js/listimport.js: nothing is stored if the file is not a list),
// then ratings merged (they replace earlier ones of the same anime) and the unscored entries kept
// as "seen" or "planned" (a rating of the same anime wins). The file never leaves the page.

import { parseList, reportLines, resolveList } from './listimport.js';
import { el } from './ui.js';

/** Download the ratings as a JSON file the page (or `anime-gnn recommend --list-file`) reads back. */
export function downloadRatings(store, model) {
  const json = store.toJson((id) => model.display[model.indexOf(id)]?.title ?? null, model.meta.model_version);
  const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
  const a = el('a', { href: url, download: `anime-ratings-${new Date().toISOString().slice(0, 10)}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Returns {imported, lines}; throws ListFormatError (and stores nothing) for a file that is not a list. */
export async function importList(bytes, { model, ratings, statuses }) {
  const imported = resolveList(await parseList(bytes), model.display, model.low, model.high);
  const id = (a) => String(model.display[a].id);
  const rated = imported.ratings.map(([a, r]) => ({ id: id(a), rating: r }));
  ratings.merge(rated);
  statuses.remove(rated.map((x) => x.id));
  const unrated = (x) => ratings.get(x.id) === null;
  statuses.merge([...imported.seen.map((a) => ({ id: id(a), status: 'seen' })),
    ...imported.planned.map((a) => ({ id: id(a), status: 'planned' }))].filter(unrated));
  return { imported, lines: reportLines(imported) };
}
