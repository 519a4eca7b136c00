/** Hand-built multipart bodies, for the bodies a well-behaved FormData would never send. */
export type Part = Readonly<{ name: string; value: string | Buffer; filename?: string; type?: string }>;

export const BOUNDARY = 'pixtools-test-boundary';

/** The bytes of a multipart body with these parts (and the closing boundary unless `close: false`). */
export function multipartBody(parts: readonly Part[], options: { close?: boolean } = {}): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const filename = part.filename === undefined ? '' : `; filename="${part.filename}"`;
    const type = part.type === undefined ? '' : `\r\nContent-Type: ${part.type}`;
    chunks.push(
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"${filename}${type}\r\n\r\n`,
      ),
      Buffer.isBuffer(part.value) ? part.value : Buffer.from(part.value),
      Buffer.from('\r\n'),
    );
  }
  if (options.close !== false) chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

type App = { request: (path: string, init?: RequestInit) => Response | Promise<Response> };

/** POSTs raw bytes to /api/process with the given Content-Type. */
export function postRaw(
  app: App,
  body: Buffer | ReadableStream<Uint8Array>,
  contentType = `multipart/form-data; boundary=${BOUNDARY}`,
) {
  const init: RequestInit & { duplex?: 'half' } = {
    method: 'POST',
    body: Buffer.isBuffer(body) ? new Uint8Array(body) : body,
    headers: { 'content-type': contentType },
    duplex: 'half',
  };
  return app.request('/api/process', init);
}
