// Talking to cpnd: JSON over fetch, with the session cookie (never a token
// in a URL). Errors carry the server's one-line message.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function call(method, url, body) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(url, init);
  const value = await r.json().catch(() => ({}));
  if (!r.ok) throw new ApiError(r.status, value.error || `${r.status} ${r.statusText}`);
  return value;
}

export const api = {
  session: () => call('GET', '/api/session'),
  login: (token) => call('POST', '/api/session', { token }),
  logout: () => call('DELETE', '/api/session'),
  topology: () => call('GET', '/api/topology'),
  query: (request) => call('POST', '/api/path', request),
  install: (name, request) => call('POST', `/api/policies/${encodeURIComponent(name)}`, request),
  remove: (name) => call('DELETE', `/api/policies/${encodeURIComponent(name)}`),
};
