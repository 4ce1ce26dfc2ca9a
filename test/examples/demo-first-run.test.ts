/**
 * The demo's first run (`node example/demo.js`), without a browser: a busy
 * OP_PORT is explained like a busy PORT, a sign-out ends on a "signed out"
 * message, and Ctrl-C lets a request in flight finish. Needs dist/.
 */
import http from 'node:http';
import net from 'node:net';
import { Browser, parseFirstForm } from '../helpers/browser.js';
import { freePort } from '../helpers/app.js';
import { startDemo } from '../e2e/demo-process.js';

const USER = { username: 'demo@example.com', password: 'demo-password' };

test('a busy OP_PORT gets a message naming the variable, and exit code 1', async () => {
  const busy = http.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const opPort = (busy.address() as net.AddressInfo).port;
  try {
    await expect(startDemo({ port: await freePort(), opPort, accessTokenTTL: 30 })).rejects.toThrow(
      new RegExp(`The demo OpenID Provider cannot listen on port ${opPort}: EADDRINUSE\\. Set OP_PORT to use another one\\.`),
    );
  } finally {
    await new Promise<void>((resolve) => busy.close(() => resolve()));
  }
});

test('signing out ends on the home page saying so, once', async () => {
  const demo = await startDemo({ port: await freePort(), opPort: await freePort(), accessTokenTTL: 30 });
  try {
    const browser = new Browser();
    const login = await browser.get(`${demo.appURL}/profile`);
    const form = parseFirstForm(login.body, login.url);
    const profile = await browser.post(form?.action ?? 'missing-login-form', USER);
    expect(profile.url).toBe(`${demo.appURL}/profile`);

    // The OP's "signing out" page submits its form by script; the Browser submits it here.
    const signingOut = await browser.get(`${demo.appURL}/logout`);
    const home = await browser.submitForm(signingOut, { logout: 'yes' });
    expect(home.url).toBe(`${demo.appURL}/`);
    expect(home.body).toContain('You are signed out.');
    expect((await browser.get(`${demo.appURL}/`)).body).not.toContain('You are signed out.');
  } finally {
    await demo.stop();
  }
});

test('Ctrl-C lets a request in flight finish, then stops', async () => {
  const port = await freePort();
  const demo = await startDemo({ port, opPort: await freePort(), accessTokenTTL: 30 });
  try {
    // A request whose headers are still arriving when Ctrl-C comes.
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(`GET / HTTP/1.1\r\nHost: localhost:${port}\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stopped = demo.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.write('Connection: close\r\n\r\n');
    await ended;
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('express-oidc demo');
    expect(await stopped).toBe(0);
  } finally {
    await demo.stop();
  }
});
