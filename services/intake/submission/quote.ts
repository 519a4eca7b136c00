/** How much of any user input a `detail` may quote. */
export const MAX_QUOTED = 100;

/**
 * User input as a `detail` may show it: at most `MAX_QUOTED` characters (then `…`), control and
 * format characters escaped so a message never carries a NUL, a newline or a bidi override.
 */
export function clip(text: string, max = MAX_QUOTED): string {
  const chars = [...text];
  const cut = chars.length > max ? `${chars.slice(0, max).join('')}…` : text;
  return cut.replace(
    /[\p{Cc}\p{Cf}]/gu,
    (char) => `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
}

/** `clip`ped and in double quotes, for values the message names. */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return `"${clip(text)}"`;
}
