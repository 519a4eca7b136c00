export function bytes(n) {
  if (!Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

export function saving(original, output) {
  if (!original || !output) return null;
  const pct = Math.round((1 - output / original) * 100);
  return pct >= 0 ? { text: `${pct}% smaller`, better: true } : { text: `${-pct}% larger`, better: false };
}

export function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleString();
}

export const FORMAT_NAMES = { jpg: 'JPEG', png: 'PNG', webp: 'WebP', avif: 'AVIF', zip: 'ZIP', json: 'JSON' };

/** Builds an element: h('p', { class: 'x' }, 'text', child) — text is never parsed as HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A duration as people read it: "850 ms", "4.2 s", "42 s", "5 min 28 s", "1 h 05 min". */
export function duration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const total = Math.round(s);
  if (total < 3600) return `${Math.floor(total / 60)} min ${total % 60} s`;
  const minutes = Math.round(total / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** A rough remaining time: "about 2 min left", "about 15 s left", "almost done". */
export function remaining(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 3000) return 'almost done';
  const s = ms / 1000;
  if (s < 60) return `about ${Math.max(5, Math.round(s / 5) * 5)} s left`;
  return `about ${Math.round(s / 60)} min left`;
}

const PHASES = { encode: 'encoding', upload: 'uploading', done: 'done' };

/**
 * "tile 12 / 48 · about 2 min left" from a progress report ({done, total, unit, etaMs, phase}); a large
 * conversion reports phases instead: "encoding · 1 / 3".
 */
export function progressText(progress) {
  if (!progress || !(progress.total > 0)) return '';
  if (progress.unit === 'phase' && progress.phase) {
    return `${PHASES[progress.phase] ?? progress.phase} · ${progress.done} / ${progress.total}`;
  }
  const eta = progress.done < progress.total ? remaining(progress.etaMs ?? progress.eta_ms) : '';
  return `${progress.unit ?? 'tile'} ${progress.done} / ${progress.total}${eta ? ` · ${eta}` : ''}`;
}
