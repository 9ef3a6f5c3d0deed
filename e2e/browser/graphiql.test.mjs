// Drives polygate's GraphiQL page (`GET /`) in headless Chromium the way a person would: type a
// `register` mutation and run it, `login` and copy the token out of the result pane, put it in the
// headers editor, then run `{ me { ... } }` and read the answer.
//
// The gateway serves the page and every file it loads (GraphiQL and React, bundled at build time):
// every request that leaves the gateway's origin is blocked and fails the test, so it proves the
// IDE works on an offline network.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, mkdirSync, existsSync, createWriteStream, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');
const gatewayBin = process.env.POLYGATE_BIN
  ? resolve(process.env.POLYGATE_BIN)
  : join(repoRoot, 'target/debug/polygate');
const chromiumBin = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const outputDir = join(here, 'output');

const STEP_TIMEOUT_MS = 15_000;

let gateway; // child process
let gatewayExit; // promise resolved when it exits
let context; // Playwright persistent browser context
let page;
let scratch; // temp dir holding the data dir and the browser profile
const problems = []; // requests that left the gateway and page errors, reported on failure
const served = new Set(); // gateway URLs the page loaded

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitReady(base, deadline) {
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (gateway.exitCode !== null) {
      throw new Error(`polygate exited with ${gateway.exitCode} before it was ready (see output/gateway.log)`);
    }
    try {
      const res = await fetch(`${base}/readiness`);
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (e) {
      last = e.message;
    }
    await sleep(200);
  }
  throw new Error(`polygate not ready at ${base}/readiness: ${last}`);
}

// Replaces the whole text of the CodeMirror editor inside `scope` by typing, as a person would:
// click into it, select all, type. Returns what the editor then holds.
async function typeInto(scope, text) {
  const editor = scope.locator('.CodeMirror').first();
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(text);
  await page.keyboard.press('Escape'); // closes an autocomplete popup if one is open
  return editor.evaluate((el) => el.CodeMirror.getValue());
}

// The text a person sees in the result pane.
function resultText() {
  return page.locator('.result-window .CodeMirror-code').innerText().catch(() => '');
}

// Clicks the run button, then waits (bounded) until the result pane shows text for which `done`
// is true, and returns that text.
async function runAndWait(done, what) {
  await page.getByRole('button', { name: /^Execute query/ }).click();
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  let text = '';
  while (Date.now() < deadline) {
    text = await resultText();
    if (done(text)) return text;
    await sleep(100);
  }
  throw new Error(`result pane never showed ${what}; it shows:\n${text}`);
}

before(async () => {
  mkdirSync(outputDir, { recursive: true });
  scratch = mkdtempSync(join(tmpdir(), 'polygate-browser-'));
  assert.ok(existsSync(gatewayBin), `no polygate binary at ${gatewayBin} (build it, or set POLYGATE_BIN)`);
  assert.ok(existsSync(chromiumBin), `no Chromium at ${chromiumBin} (run e2e/browser/run, which installs it)`);

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = join(scratch, 'data');
  mkdirSync(dataDir);
  const log = createWriteStream(join(outputDir, 'gateway.log'));
  // Run from the scratch folder, as a user with only the binary would: it carries its supergraph.
  gateway = spawn(gatewayBin, ['serve'], {
    cwd: scratch,
    env: { ...process.env, POLYGATE_SERVER__LISTEN: `127.0.0.1:${port}`, POLYGATE_SERVER__DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  gateway.stdout.pipe(log);
  gateway.stderr.pipe(log);
  gatewayExit = new Promise((r) => gateway.once('exit', r));
  await waitReady(base, Date.now() + 30_000);

  context = await chromium.launchPersistentContext(join(scratch, 'profile'), {
    executablePath: chromiumBin,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
    timeout: 30_000,
    viewport: { width: 1400, height: 900 },
    baseURL: base,
  });
  // Only the gateway is let through; any other request is cut off and fails the test.
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.origin === base) {
      served.add(url.pathname);
      return route.continue();
    }
    if (url.protocol === 'data:') return route.continue();
    problems.push(`request that left the gateway: ${url.href}`);
    return route.abort('blockedbyclient');
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
}, { timeout: 60_000 });

after(async () => {
  await context?.close().catch(() => {});
  if (gateway && gateway.exitCode === null && gateway.signalCode === null) {
    gateway.kill('SIGTERM');
    const exited = await Promise.race([gatewayExit.then(() => true), sleep(5_000).then(() => false)]);
    if (!exited) {
      gateway.kill('SIGKILL');
      await gatewayExit;
    }
  }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}, { timeout: 15_000 });

test('GraphiQL: register, log in, put the token in the headers editor, query `me`', { timeout: 90_000 }, async () => {
  const email = `browser-${Date.now()}@example.com`;
  const password = 'browser-test-password';
  try {
    await page.goto('/');
    // GraphiQL has rendered once the query editor and the run button are there.
    const queryEditor = page.locator('.graphiql-query-editor');
    await queryEditor.locator('.CodeMirror').waitFor({ timeout: STEP_TIMEOUT_MS });
    await page.getByRole('button', { name: /^Execute query/ }).waitFor({ timeout: STEP_TIMEOUT_MS });

    // 1. register
    const register = `mutation { register(input: {email: "${email}", password: "${password}", name: "Browser Test"}) { id email } }`;
    assert.equal(await typeInto(queryEditor, register), register, 'query editor holds what was typed');
    const registered = await runAndWait((t) => t.includes('"register"') || t.includes('"errors"'), 'the register result');
    assert.ok(!registered.includes('"errors"'), `register failed:\n${registered}`);
    assert.ok(registered.includes(email), `register result lacks the email:\n${registered}`);

    // 2. login, and copy the token out of the result pane
    const login = `mutation { login(email: "${email}", password: "${password}") { token } }`;
    assert.equal(await typeInto(queryEditor, login), login, 'query editor holds what was typed');
    const loggedIn = await runAndWait((t) => /"token":\s*"[^"]+"/.test(t) || t.includes('"errors"'), 'a token');
    const token = loggedIn.match(/"token":\s*"([^"]+)"/)?.[1];
    assert.ok(token, `login gave no token:\n${loggedIn}`);

    // 3. open the headers editor and enter the token
    await page.getByRole('tab', { name: 'Headers' }).or(page.getByRole('button', { name: 'Headers' })).first().click();
    const headersEditor = page.locator('.graphiql-editor-tool .CodeMirror:visible').first();
    await headersEditor.waitFor({ timeout: STEP_TIMEOUT_MS });
    const headers = `{"Authorization": "Bearer ${token}"}`;
    await headersEditor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Backspace');
    await page.keyboard.type(headers);
    await page.keyboard.press('Escape');
    assert.equal(await headersEditor.evaluate((el) => el.CodeMirror.getValue()), headers, 'headers editor holds what was typed');

    // 4. ask who we are
    const me = '{ me { email sessions { current } } }';
    assert.equal(await typeInto(queryEditor, me), me, 'query editor holds what was typed');
    const answer = await runAndWait((t) => t.includes('"me"') || t.includes('"errors"'), 'the `me` result');
    assert.ok(!answer.includes('"errors"'), `me failed:\n${answer}`);
    assert.ok(answer.includes(`"email": "${email}"`), `me result lacks the registered email:\n${answer}`);
    assert.match(answer, /"current":\s*true/, `me result has no current session:\n${answer}`);

    assert.deepEqual(problems, [], 'no request left the gateway and no page error');
    const assets = [...served].filter((path) => path.startsWith('/graphiql/'));
    assert.deepEqual(
      assets.map((path) => path.replace(/-[0-9.]+\//, '/')).sort(),
      [
        '/graphiql/graphiql/graphiql.min.css',
        '/graphiql/graphiql/graphiql.min.js',
        '/graphiql/react-dom/react-dom.production.min.js',
        '/graphiql/react/react.production.min.js',
      ],
      `the page loaded GraphiQL and React's production bundles from the gateway: ${assets}`,
    );
    await page.screenshot({ path: join(outputDir, 'graphiql.png') });
  } catch (e) {
    await page?.screenshot({ path: join(outputDir, 'graphiql-failure.png') }).catch(() => {});
    if (problems.length) e.message += `\nalso seen:\n${problems.join('\n')}`;
    throw e;
  }
});
