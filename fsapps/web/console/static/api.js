// The console's one door to the server: the public HTTP API, same origin, with the
// session cookie the login set and its CSRF token on every change.
export class ApiError extends Error {
  constructor(status, code, message, detail) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail || null;
  }
}

let csrf = null;
let bearer = null;

export function setCsrf(token) {
  csrf = token;
}

// A wallboard has no session: it sends its read-only token instead, and no cookie.
export function setBearer(token) {
  bearer = token;
}

export const enc = encodeURIComponent;

export async function api(method, path, body) {
  const headers = {Accept: 'application/json'};
  const init = {method, headers, credentials: bearer ? 'omit' : 'same-origin'};
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let resp;
  try {
    resp = await fetch(`/api/v1${path}`, init);
  } catch (e) {
    throw new ApiError(0, 'network', String(e));
  }
  const text = resp.status === 204 ? '' : await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    data = null;
  }
  if (!resp.ok) {
    if (data && typeof data.code === 'string') throw new ApiError(resp.status, data.code, data.message, data.detail);
    throw new ApiError(resp.status, `http_${resp.status}`, text.slice(0, 200));
  }
  return data;
}

export const get = (path) => api('GET', path);
