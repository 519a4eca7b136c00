import { XMLParser } from 'fast-xml-parser';
import { S3Error } from './errors.ts';

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** An S3 response document: `<?xml…?><root xmlns=…>body</root>`. */
export function document(root: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${NS}">${body}</${root}>`;
}

/** `<name>escaped text</name>` for each [name, value]; undefined values are left out. */
export function elements(
  fields: ReadonlyArray<readonly [string, string | number | boolean | undefined]>,
): string {
  return fields
    .filter((field): field is readonly [string, string | number | boolean] => field[1] !== undefined)
    .map(([name, value]) => `<${name}>${escapeXml(String(value))}</${name}>`)
    .join('');
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  isArray: (name) => name === 'Object' || name === 'Part',
});

/** Parses a request document and returns its root element, or answers 400 MalformedXML. */
export function parseRequest(body: Buffer, root: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parser.parse(body.toString('utf8'), true);
  } catch {
    throw malformed();
  }
  const element = (parsed as Record<string, unknown> | null)?.[root];
  if (typeof element !== 'object' || element === null) throw malformed();
  return element as Record<string, unknown>;
}

export function malformed(): S3Error {
  return new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate');
}
