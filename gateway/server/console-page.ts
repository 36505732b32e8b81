// Serves the web console: GET / is the page (HTML and CSS below), GET /seglog-console.js its
// script, built by esbuild from gateway/console/ into dist/browser/ (npm run build). The page
// loads nothing else, and its Content-Security-Policy says so: only this origin, its WebSocket
// included, so a console page can never be made to fetch from or send to another host.
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

/** dist/gateway/server/ → dist/browser/seglog-console.js */
const SCRIPT_FILE = fileURLToPath(new URL('../../browser/seglog-console.js', import.meta.url));
let script: Buffer | null = null;

const CSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>seglog console</title>
<link rel="icon" href="data:,">
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
  header { display: flex; gap: 1.2em; align-items: center; padding: .6em 1.2em; background: #1d2330; color: #fff; }
  header a { color: #cfe0ff; text-decoration: none; }
  header h1 { font-size: 1.1em; margin: 0; }
  header .spacer { flex: 1; }
  canvas { background: #fff; border-radius: 3px; }
  main { padding: 1em 1.2em; }
  table { border-collapse: collapse; background: #fff; margin: .4em 0 1em; min-width: 40em; }
  th, td { padding: .25em .7em; border-bottom: 1px solid #e3e6eb; text-align: left; vertical-align: top; }
  th { background: #eef1f5; font-weight: 600; }
  td.value { max-width: 40em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .mono { font-family: ui-monospace, monospace; font-size: 12.5px; }
  .muted { color: #6b7385; }
  .ok { color: #8fe3a1; }
  .error { color: #c62828; }
  header .error { color: #ff9c9c; }
  .row { margin: .4em 0; }
  button { cursor: pointer; }
  input[type=number] { width: 5em; }
  button.danger { color: #b00020; }
  section, form.produce { background: #fff; padding: .3em 1em .8em; margin: 1em 0; border-radius: 4px; }
  #message { min-height: 1.2em; }
</style>
</head>
<body>
<header>
  <h1>seglog</h1>
  <a href="#/">Topics</a>
  <a href="#/groups">Groups</a>
  <span class="spacer"></span>
  <span id="health" data-testid="health">…</span>
  <canvas id="chart" width="160" height="28"></canvas>
  <span id="rate"></span>
  <a href="#" id="signout">sign out</a>
</header>
<main>
  <div id="message"></div>
  <div id="main"></div>
</main>
<script type="module" src="/seglog-console.js"></script>
</body>
</html>
`;

/** True when the request was the console's (answered). */
export function serveConsole(path: string, res: ServerResponse): boolean {
  const headers = { 'cache-control': 'no-cache', 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
  if (path === '/' || path === '/index.html') {
    res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(PAGE) });
    res.end(PAGE);
    return true;
  }
  if (path === '/seglog-console.js') {
    try {
      script ??= fs.readFileSync(SCRIPT_FILE);
    } catch {
      const body = 'the console script is not built: run npm run build\n';
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return true;
    }
    res.writeHead(200, { ...headers, 'content-type': 'text/javascript; charset=utf-8', 'content-length': script.length });
    res.end(script);
    return true;
  }
  return false;
}
