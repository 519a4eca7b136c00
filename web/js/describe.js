// Words for what a step or a result is, as a person would say it (never internal ids or op names).
import { FORMAT_NAMES } from './format.js';

const OP_NAMES = {
  jpg: 'JPEG',
  png: 'PNG',
  webp: 'WebP',
  avif: 'AVIF',
  denoise: 'Denoise',
  metadata: 'EXIF',
  resize: 'Resize',
  bundle: 'ZIP of all outputs',
};

export const STATUS_WORDS = {
  pending: 'waiting',
  dispatched: 'queued',
  running: 'running',
  succeeded: 'done',
  failed: 'failed',
};

export function opName(op) {
  return OP_NAMES[op] ?? op;
}

/** "Denoise", or "Resize (s2)" for a chain step whose id says nothing by itself. */
export function stepLabel(step) {
  const op = step.op ?? step.operation;
  return { name: opName(op), id: step.id === op || step.id === 'bundle' ? null : step.id };
}

/** The steps a result was made from, nearest first (its own step included). */
function lineage(steps, step) {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const chain = [];
  const seen = new Set();
  for (let at = step; at && !seen.has(at.id); at = byId.get(at.inputs?.[0])) {
    seen.add(at.id);
    chain.push(at);
  }
  return chain;
}

/**
 * "WebP · 800 px · denoised": the output format, its width when it was resized, and whether it was
 * denoised. `source` ({ width }) tells a resize by the toggles (which leave no resize step).
 */
export function describeResult(job, result, source = {}) {
  const steps = (job.steps ?? []).map((s) => ({ ...s, op: s.op ?? s.operation }));
  const step = steps.find((s) => s.result === result) ?? steps.find((s) => s.id === result);
  if (!step) return opName(result);
  if (step.op === 'metadata') return 'EXIF (JSON)';
  const ops = new Set(lineage(steps, step).map((s) => s.op));
  const format = step.output?.format ?? (step.op === 'denoise' ? 'png' : step.op);
  const parts = [FORMAT_NAMES[format] ?? opName(format)];
  const width = step.output?.width;
  const resized = ops.has('resize') || (source.width && width && width !== source.width);
  if (resized && width) parts.push(`${width} px`);
  if (ops.has('denoise')) parts.push('denoised');
  return parts.join(' · ');
}
