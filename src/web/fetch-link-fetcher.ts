/**
 * The browser's LinkFetcher: fetch() on the page's own origin. The browser's TLS
 * decides whom the page talks to; the link's secret checks what comes back.
 */
import type { LinkFetcher } from '../core/links.js';
import { chunksOf } from '../core/source.js';
import { isErrorCode, sispError } from '../protocol/errors.js';
import { MAX_LINK_INFO, toBase64Url } from '../protocol/link.js';

async function refusal(response: Response): Promise<Error> {
  const body = (await response.json().catch(() => ({}))) as { code?: unknown; message?: unknown };
  if (isErrorCode(body.code))
    return sispError(
      body.code,
      typeof body.message === 'string' ? body.message.slice(0, 300) : undefined,
    );
  return sispError('E_UNAVAILABLE', `the server answered ${response.status}`);
}

async function get(url: string): Promise<Response> {
  const response = await fetch(url, { credentials: 'omit', cache: 'no-store' }).catch(
    (cause: unknown) => {
      throw sispError('E_UNAVAILABLE', 'the server cannot be reached', { cause });
    },
  );
  if (!response.ok) throw await refusal(response);
  return response;
}

export const fetchLinkFetcher: LinkFetcher = {
  async info(origin, id) {
    const response = await get(`${origin}/l/${toBase64Url(id)}/info`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length > MAX_LINK_INFO) throw sispError('E_TOO_LARGE', 'the link info is too large');
    return bytes;
  },
  async *blob(origin, id) {
    const response = await get(`${origin}/l/${toBase64Url(id)}/blob`);
    if (response.body === null) throw sispError('E_UNAVAILABLE', 'the server sent no image');
    yield* chunksOf(response.body);
  },
};
