// The page's message catalogue (the server embeds the reader's language's): every string
// a person reads goes through t(); an API error through errorText(), by its stable code.
const catalogue = JSON.parse(document.getElementById('catalogue').textContent);

export const lang = document.documentElement.lang;

export function has(key) {
  return Object.prototype.hasOwnProperty.call(catalogue, key);
}

export function t(key, values = {}) {
  if (!has(key)) {
    console.error(`[catalogue] missing key ${key}`);
    return `[[${key}]]`;
  }
  return catalogue[key].replace(/\{(\w+)\}/g, (all, name) => (name in values ? String(values[name]) : all));
}

// What went wrong, in the reader's language: the code's message (or a general one naming
// the code), and for invalid input the fields and why, as the API said them.
export function errorText(err) {
  const head = has(`error.${err.code}`) ? t(`error.${err.code}`) : t('error.unknown', {code: err.code, status: err.status});
  // apiflask's 422: detail = {location: {field: [why, ...]}} (location: json, query, ...)
  const fields = [];
  for (const [where, byField] of Object.entries(err.detail || {})) {
    if (where === 'problems' || !byField || typeof byField !== 'object') continue;
    for (const [field, why] of Object.entries(byField)) fields.push(`${field}: ${[].concat(why).join(' ')}`);
  }
  return {head, more: fields.length ? fields.join('; ') : (err.message || '')};
}

// Times are shown in the tenant's timezone (its IANA name, from GET .../console-settings),
// not the browser's: a supervisor abroad and the floor read the same clock. Until a page
// knows it (an operator across tenants), the browser's.
let zone;

export function setZone(name) {
  zone = name || undefined;
}

function at(value) {
  return typeof value === 'number' ? new Date(value * 1000) : new Date(value);
}

// A time the API gave (ISO 8601) or seconds since the epoch, in the reader's language.
export function when(value) {
  if (value === null || value === undefined || value === '') return '';
  return new Intl.DateTimeFormat(lang, {dateStyle: 'short', timeStyle: 'short', timeZone: zone}).format(at(value));
}

// The time of day alone (a wallboard's "updated at"), with seconds.
export function timeOfDay(value) {
  return new Intl.DateTimeFormat(lang, {timeStyle: 'medium', timeZone: zone}).format(at(value));
}

export function seconds(s) {
  const n = Math.max(0, Math.floor(Number(s) || 0));
  const m = Math.floor(n / 60);
  return `${m}:${String(n % 60).padStart(2, '0')}`;
}

// A value from the API with a catalogue entry (an agent status, a call state): its words.
export function label(prefix, value) {
  return has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : String(value ?? '');
}
