import * as oidc from 'openid-client';
import type { ClientCore } from './core.js';
import { failure } from './grant.js';
import type { RequestOptions } from './requests.js';

/** Userinfo with an access token; the answer must be about `expectedSubject`. */
export async function fetchUserInfo(
  core: ClientCore,
  accessToken: string,
  expectedSubject: string,
  request?: RequestOptions,
): Promise<Record<string, unknown>> {
  const { config } = await core.configuration({}, request);
  try {
    return await oidc.fetchUserInfo(config, accessToken, expectedSubject, await core.dpopOptions(config));
  } catch (err) {
    throw failure(err, 'userinfo', request?.signal);
  }
}
