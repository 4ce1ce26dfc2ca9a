import { parseFirstForm, type Browser, type BrowserResponse } from '../browser.js';
import { USERS, type TestUser } from '../users.js';
import type { OPState } from './state.js';

/**
 * Drives a browser login (see TestOP.signIn): log in at the OP, confirm or refuse consent,
 * auto-submit form_post pages, follow redirects back into the app.
 */
export async function signIn(
  state: OPState,
  browser: Browser,
  startUrl: string,
  user: TestUser | { username: string; password: string } = USERS.alice,
  opts: { consent?: boolean } = {},
): Promise<BrowserResponse> {
  const redirects: string[] = [];
  // the returned response lists the redirects of ALL steps of the sign-in, not just the last one
  const step = async (pending: Promise<BrowserResponse>) => {
    const r = await pending;
    redirects.push(...r.redirects);
    return { ...r, redirects: [...redirects] };
  };
  let res = await step(browser.get(startUrl));
  let loginSubmitted = false;
  for (let i = 0; i < 10; i += 1) {
    const onOP = new URL(res.url).origin === state.issuer;
    const form = onOP ? parseFirstForm(res.body, res.url) : undefined;
    const formPath = form ? new URL(form.action).pathname : '';

    if (form && /^\/interaction\/[^/]+\/login$/.test(formPath)) {
      // the login form again right after submitting it: the credentials were rejected
      if (loginSubmitted) return res;
      loginSubmitted = true;
      res = await step(browser.post(form.action, { username: user.username, password: user.password }));
    } else if (form && /^\/interaction\/[^/]+\/confirm$/.test(formPath)) {
      const target = opts.consent === false ? form.action.replace(/\/confirm$/, '/abort') : form.action;
      res = await step(browser.post(target, {}));
    } else if (form && /<title>Submitting Callback<\/title>/.test(res.body)) {
      // response_mode=form_post: oidc-provider's self-submitting form (a browser runs its script)
      res = await step(browser.submitForm(res));
    } else {
      return res;
    }
  }
  throw new Error(`signIn did not finish; last page: ${res.status} ${res.url}`);
}
