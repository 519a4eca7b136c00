// History without an account: job ids in localStorage, most recent first, refreshed from the API.
import { getJob } from './api.js';
import { FORMAT_NAMES, h, when } from './format.js';

const KEY = 'pixtools.history.v1';
export const HISTORY_CAP = 30;

export function loadHistory() {
  try {
    const parsed = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((entry) => typeof entry?.id === 'string') : [];
  } catch {
    return [];
  }
}

function save(entries) {
  localStorage.setItem(KEY, JSON.stringify(entries.slice(0, HISTORY_CAP)));
}

export function remember(entry) {
  save([entry, ...loadHistory().filter((old) => old.id !== entry.id)]);
}

export function forget(id) {
  save(loadHistory().filter((entry) => entry.id !== id));
}

/** Empties the history and returns what it held, for an undo. */
export function clearHistory() {
  const entries = loadHistory();
  localStorage.removeItem(KEY);
  return entries;
}

export function restoreHistory(entries) {
  save([...loadHistory(), ...entries.filter((entry) => !loadHistory().some((old) => old.id === entry.id))]);
}

function statusBadge(job) {
  if (job.expired) return h('span', { class: 'status expired' }, 'Expired');
  return h('span', { class: `status ${job.status}` }, job.status.replaceAll('_', ' ').toLowerCase());
}

function links(job) {
  if (job.expired || !job.result_urls) return [];
  const out = Object.entries(job.result_urls).map(([op, url]) =>
    h('a', { class: 'button small', href: url, download: '' }, `${FORMAT_NAMES[op] ?? op}`),
  );
  if (job.archive_url)
    out.push(h('a', { class: 'button small', href: job.archive_url, download: '' }, 'ZIP'));
  return out;
}

/** Renders the list; every entry is re-fetched so its links are freshly signed ("link healing"). */
export async function renderHistory(list, { onOpen, onChange }) {
  const entries = loadHistory();
  if (entries.length === 0) {
    list.replaceChildren(h('li', { class: 'empty' }, 'No jobs yet. Your last jobs will appear here.'));
    return;
  }
  const items = await Promise.all(
    entries.map(async (entry) => {
      let job = null;
      let problem = null;
      try {
        job = await getJob(entry.id);
      } catch (error) {
        const recent = Date.now() - Date.parse(entry.createdAt ?? '') < 60_000;
        problem =
          error.status !== 404
            ? error.message
            : recent
              ? 'Just submitted: waiting for it to appear…'
              : 'This job no longer exists.';
      }
      const remove = h(
        'button',
        { type: 'button', class: 'small ghost', 'aria-label': `Remove ${entry.name} from history` },
        'Remove',
      );
      remove.addEventListener('click', () => {
        forget(entry.id);
        onChange();
      });
      const open =
        job && !job.expired
          ? h('button', { type: 'button', class: 'small', onclick: () => onOpen(entry) }, 'Open')
          : null;
      return h(
        'li',
        { 'data-job': entry.id, class: job?.expired ? 'expired' : '' },
        h(
          'div',
          { class: 'meta' },
          h('strong', {}, entry.name ?? 'image'),
          h('code', {}, entry.id),
          h('small', {}, when(job?.created_at ?? entry.createdAt)),
          job?.expired ? h('small', {}, 'Past its 24-hour retention window: its files were deleted.') : null,
          job?.error_message ? h('small', { class: 'error' }, `Failed: ${job.error_message}`) : null,
          problem ? h('small', {}, problem) : null,
        ),
        h('div', { class: 'links' }, job ? statusBadge(job) : null, links(job ?? {}), open, remove),
      );
    }),
  );
  list.replaceChildren(...items);
}
