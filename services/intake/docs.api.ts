import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Hono } from 'hono';

const SPEC = new URL('../../docs/openapi.json', import.meta.url);
/**
 * Swagger UI's own files, served from the installed package: no CDN. The folder is found by resolving
 * the package's manifest: importing the package itself would evaluate its 2 MB browser bundle in this
 * process, about 10 MB of heap that every full garbage collection of intake would then mark.
 */
const SWAGGER_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>PixTools API</title>
  <link rel="icon" href="/docs/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>`;

/**
 * The spec marks the JSON fields of the upload form with `encoding: application/json` so Swagger UI sends
 * the JSON text as typed (without it, it turns `["webp","avif"]` into `webp,avif`); it would send them as
 * file parts, so the interceptor puts that same text back as plain form fields, as every other client does.
 */
const INIT = `window.ui = SwaggerUIBundle({
  url: '/docs/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  requestInterceptor: (request) => {
    if (request.body instanceof FormData) {
      for (const [name, value] of [...request.body.entries()]) {
        if (value instanceof File && value.type.startsWith('application/json') && typeof value.data === 'string') {
          request.body.set(name, value.data);
        }
      }
    }
    return request;
  },
});`;

/** `GET /docs`: interactive OpenAPI documentation (Swagger UI) for `docs/openapi.json`. */
export function docsApi() {
  const cache = new Map<string, Promise<Buffer>>();
  const load = (file: string) => {
    const cached = cache.get(file) ?? readFile(path.join(SWAGGER_DIR, file));
    cache.set(file, cached);
    return cached;
  };
  let spec: Promise<unknown> | null = null;
  return new Hono()
    .get('/', (c) => c.html(PAGE))
    .get('/openapi.json', async (c) => {
      spec ??= readFile(SPEC, 'utf8').then((text) => JSON.parse(text) as unknown);
      return c.json(await spec);
    })
    .get('/init.js', (c) => c.body(INIT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }))
    .get('/:file', async (c) => {
      const file = c.req.param('file');
      const type = ASSETS[file];
      if (type === undefined) return c.json({ detail: 'Not Found' }, 404);
      const body = new Uint8Array(await load(file));
      return c.body(body, 200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=86400' });
    });
}
