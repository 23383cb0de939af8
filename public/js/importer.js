// Import a MyAnimeList / AniList export or this page's own ratings file into the page's stores:
// read and checked whole first (js/listimport.js: nothing is stored if the file is not a list),
// then ratings merged (they replace earlier ones of the same anime) and the unscored entries kept
// as "seen" or "planned" (a rating of the same anime wins). The file never leaves the page.

import { parseList, reportLines, resolveList } from './listimport.js';

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
