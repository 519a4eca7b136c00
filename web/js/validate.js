// Checks the form's numbers before anything is uploaded, marks each wrong field and says why in words.
import { h } from './format.js';

/** The rule of one field, read from its attributes: min/max, and data-allow (a word also accepted). */
function problem(input) {
  const value = input.value.trim();
  if (value === '') return null;
  if (input.dataset.allow && value.toLowerCase() === input.dataset.allow) return null;
  const min = input.min === '' ? null : Number(input.min);
  const max = input.max === '' ? null : Number(input.max);
  const n = Number(value);
  const range =
    min !== null && max !== null ? `from ${min} to ${max}` : min !== null ? `of at least ${min}` : '';
  const allowed = input.dataset.allow ? `“${input.dataset.allow}” or ` : '';
  const rule = `${allowed}a whole number ${range}`.trim();
  if (!Number.isInteger(n) || (min !== null && n < min) || (max !== null && n > max)) {
    return `${input.dataset.label ?? 'This field'} must be ${rule} (you typed “${value}”).`;
  }
  return null;
}

export function clearFieldErrors(form) {
  for (const input of form.querySelectorAll('[aria-invalid="true"]')) input.removeAttribute('aria-invalid');
  for (const note of form.querySelectorAll('.field-error')) note.remove();
}

/** Marks every invalid number field of `form`; returns the messages (empty when all is well). */
export function checkFields(form) {
  clearFieldErrors(form);
  const messages = [];
  for (const input of form.querySelectorAll('input[data-check]')) {
    if (input.matches(':disabled')) continue;
    const message = problem(input);
    if (!message) continue;
    const id = `${input.id}-error`;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', id);
    input.closest('label')?.append(h('small', { class: 'field-error', id }, message));
    messages.push({ input, message });
  }
  messages[0]?.input.focus();
  return messages.map((entry) => entry.message);
}
